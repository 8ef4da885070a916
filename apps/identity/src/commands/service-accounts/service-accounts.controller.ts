import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Reservations } from '@app/event-store';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  DomainError,
  ErrorCode,
  IdentitySubjects,
  stableUuid,
  type ChangeServiceAccountRequest,
  type CreateServiceAccountRequest,
  type CreateServiceAccountTokenRequest,
  type CreatedServiceAccountToken,
  type Message,
  type RevokeServiceAccountTokenRequest,
  type ServiceAccountRef,
  type ServiceAccountView,
} from '@app/contracts';
import { InjectConfig, MONGO_DB, RESERVATIONS, type ServiceConfig } from '@app/platform';
import { generateServiceAccountToken, hashToken } from '../../credentials/api-token';
import { serviceAccountTokens } from '../../credentials/credentials.repository';
import { SERVICE_ACCOUNT_COMMANDS, type ServiceAccountCommandRunner } from '../../service-account/service-account-command.runner';
import { isLive, serviceAccountsCollection, viewOf } from '../../service-account/service-accounts.projection';
import type { ServiceAccountState } from '../../service-account/service-account.state';

/** Names are unique per organization regardless of case: a reservation `service-account-name:<org>:<lowercased name>`. */
const NAME_KIND = 'service-account-name';
const nameKey = (organizationId: string, name: string) => `${organizationId}:${name.toLowerCase()}`;
const nameTaken = (name: string) =>
  new DomainError(ErrorCode.SERVICE_ACCOUNT_NAME_TAKEN, `a service account named ${name} already exists in this organization`, { name });

const view = (id: string, state: ServiceAccountState): ServiceAccountView => viewOf({ ...state, _id: id, version: 0 });

/**
 * Service accounts' commands (docs/identity.md "Service accounts"). The gateway has checked the actor's
 * `organization.service_accounts.manage` in the organization; membership decides its role there. Ids derive from
 * the command id, so a retried command (same id) creates nothing twice; a retried token creation stores a fresh
 * secret under the token id its first run appended (reset-api-token's way) and the first one, which nobody got,
 * is deleted.
 */
@Controller()
export class ServiceAccountCommandsController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(RESERVATIONS) private readonly reservations: Reservations,
    @InjectConfig() private readonly config: ServiceConfig<'identity'>,
    @Inject(SERVICE_ACCOUNT_COMMANDS) private readonly runServiceAccountCommand: ServiceAccountCommandRunner,
  ) {}

  @MessagePattern(IdentitySubjects.createServiceAccount())
  async create(@Payload() m: Message<CreateServiceAccountRequest>): Promise<ServiceAccountView> {
    const { organizationId, name, description, createdBy } = m.body;
    const serviceAccountId = stableUuid(`service-account:${m.meta.commandId}`);
    const key = nameKey(organizationId, name);
    if (!(await this.reservations.claim(NAME_KIND, key, serviceAccountId))) throw nameTaken(name);
    try {
      const result = await this.runServiceAccountCommand(
        { kind: 'CreateServiceAccount', serviceAccountId, organizationId, name, description, createdBy },
        m.meta,
      );
      await this.reservations.confirm(NAME_KIND, key, serviceAccountId);
      return view(serviceAccountId, result.state);
    } catch (err) {
      await this.reservations.release(NAME_KIND, key, serviceAccountId);
      throw err;
    }
  }

  @MessagePattern(IdentitySubjects.changeServiceAccount())
  async change(@Payload() m: Message<ChangeServiceAccountRequest>): Promise<ServiceAccountView> {
    const { organizationId, serviceAccountId, name, description, active } = m.body;
    const before = await this.load(organizationId, serviceAccountId);
    const run = () => this.runServiceAccountCommand({ kind: 'ChangeServiceAccount', serviceAccountId, organizationId, name, description, active }, m.meta);
    const newKey = name === undefined ? undefined : nameKey(organizationId, name);
    const oldKey = nameKey(organizationId, before.name!);
    if (newKey === undefined || newKey === oldKey) return view(serviceAccountId, (await run()).state);
    if (!(await this.reservations.claim(NAME_KIND, newKey, serviceAccountId))) throw nameTaken(name!);
    try {
      const result = await run();
      await this.reservations.confirm(NAME_KIND, newKey, serviceAccountId);
      await this.reservations.release(NAME_KIND, oldKey, serviceAccountId);
      return view(serviceAccountId, result.state);
    } catch (err) {
      await this.reservations.release(NAME_KIND, newKey, serviceAccountId);
      throw err;
    }
  }

  /** Every token dies with the account (the read model says deleted); the credentials and the name go afterwards. */
  @MessagePattern(IdentitySubjects.deleteServiceAccount())
  async delete(@Payload() m: Message<ServiceAccountRef>): Promise<Record<string, never>> {
    const { organizationId, serviceAccountId } = m.body;
    const before = await this.load(organizationId, serviceAccountId).catch(() => undefined);
    await this.runServiceAccountCommand({ kind: 'DeleteServiceAccount', serviceAccountId, organizationId }, m.meta);
    await serviceAccountTokens(this.db).deleteMany({ serviceAccountId });
    if (before?.name) await this.reservations.release(NAME_KIND, nameKey(organizationId, before.name), serviceAccountId);
    return {};
  }

  @MessagePattern(IdentitySubjects.createServiceAccountToken())
  async createToken(@Payload() m: Message<CreateServiceAccountTokenRequest>): Promise<CreatedServiceAccountToken> {
    const { organizationId, serviceAccountId, name, expiresAt } = m.body;
    const db = this.db;
    const token = generateServiceAccountToken();
    const tokenId = stableUuid(`service-account-token:${m.meta.commandId}`);
    const maxDays = this.config.SERVICE_ACCOUNT_TOKEN_MAX_DAYS;
    // stored first, inert until `service-account.token-created` makes its id live
    await serviceAccountTokens(db).insertOne({ _id: hashToken(token), serviceAccountId, tokenId, createdAt: new Date(), lastUsedAt: null });
    let state: ServiceAccountState;
    try {
      ({ state } = await this.runServiceAccountCommand({ kind: 'CreateToken', serviceAccountId, organizationId, tokenId, name, expiresAt, maxDays }, m.meta));
    } catch (err) {
      await serviceAccountTokens(db).deleteOne({ _id: hashToken(token) });
      throw err;
    }
    await serviceAccountTokens(db).deleteMany({ serviceAccountId, tokenId, _id: { $ne: hashToken(token) } });
    const issued = state.tokens?.[tokenId];
    if (!issued) throw new DomainError(ErrorCode.NOT_FOUND, 'token not found'); // revoked meanwhile (a repeated command)
    return { id: tokenId, name: issued.name, createdAt: issued.createdAt, expiresAt: issued.expiresAt, token };
  }

  @MessagePattern(IdentitySubjects.revokeServiceAccountToken())
  async revokeToken(@Payload() m: Message<RevokeServiceAccountTokenRequest>): Promise<Record<string, never>> {
    const { organizationId, serviceAccountId, tokenId } = m.body;
    await this.runServiceAccountCommand({ kind: 'RevokeToken', serviceAccountId, organizationId, tokenId }, m.meta);
    await serviceAccountTokens(this.db).deleteMany({ serviceAccountId, tokenId });
    return {};
  }

  /** The account as the read model has it (every command brings it up to its commit before answering). */
  private async load(organizationId: string, serviceAccountId: string): Promise<ServiceAccountState> {
    const doc = await serviceAccountsCollection(this.db).findOne({ _id: serviceAccountId });
    if (!isLive(doc, organizationId)) throw new DomainError(ErrorCode.NOT_FOUND, 'service account not found');
    return doc;
  }
}
