import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  accountBatchTimeoutMs,
  IdentitySubjects,
  MembershipSubjects,
  type CommandMeta,
  type CreateAccountsReply,
  type CreateMemberAccountsRequest,
  type Message,
} from '@app/contracts';
import type { NatsConnection } from 'nats';
import { NATS_CONNECTION } from '@app/platform';
import { withToken } from '../../organization/organization-command.runner';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';
import { callService } from '../../common/rpc';

/** Identity creates the accounts (managed by this organization); they and the existing users join. */
export async function createAccounts(
  deps: { organizations: OrganizationDeps; nc: NatsConnection },
  req: CreateMemberAccountsRequest,
  meta: CommandMeta,
): Promise<CreateAccountsReply> {
  // the role is decided (AddMembers of nobody) before any account exists, so a refusal leaves nothing behind
  await runOrganizationCommand(
    deps.organizations,
    { kind: 'AddMembers', organizationId: req.organizationId, users: [], roleId: req.roleId, via: 'account' },
    meta,
  );
  // One batch in identity (docs/membership.md "Accounts"): a fixed number of round trips plus a little per
  // account. The wait (30 s plus the batch's share) outlasts the gateway's (by default 5 s plus the same), so
  // the accounts still join when the client has been answered OUTCOME_UNKNOWN, and is bounded by the batch's
  // size, so a handler whose identity replica died does not linger for minutes. Run again under the same
  // command id (a retry under the same Idempotency-Key), identity returns the same accounts (with the gateway's
  // password seed, the same temporary passwords) and AddMembers appends nothing twice.
  const reply = await callService<CreateAccountsReply>(
    deps,
    IdentitySubjects.createAccounts(),
    { organizationId: req.organizationId, accounts: req.accounts, ...(req.passwordSeed === undefined ? {} : { passwordSeed: req.passwordSeed }) },
    meta,
    accountBatchTimeoutMs(req.accounts.length, 30_000),
  );
  const users = [...reply.created, ...reply.existing].flatMap((u) => (u.username ? [{ userId: u.userId, username: u.username }] : []));
  const joined = await runOrganizationCommand(
    deps.organizations,
    { kind: 'AddMembers', organizationId: req.organizationId, users, roleId: req.roleId, via: 'account' },
    meta,
  );
  return withToken(req.organizationId, joined.version, { created: reply.created, existing: reply.existing.map((e) => ({ userId: e.userId, email: e.email })) });
}

@Controller()
export class CreateAccountsController {
  constructor(
    @Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @MessagePattern(MembershipSubjects.createAccounts())
  create(@Payload() m: Message<CreateMemberAccountsRequest>): Promise<CreateAccountsReply> {
    return createAccounts({ organizations: this.organizations, nc: this.nc }, m.body, m.meta);
  }
}
