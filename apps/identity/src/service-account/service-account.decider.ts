import {
  Description,
  DomainError,
  EntityName,
  ErrorCode,
  newEvent,
  ServiceAccountCreated,
  ServiceAccountDeactivated,
  ServiceAccountDeleted,
  ServiceAccountDetailsChanged,
  ServiceAccountReactivated,
  ServiceAccountTokenCreated,
  ServiceAccountTokenRevoked,
  Username,
  type CommandMeta,
  type NewEvent,
} from '@app/contracts';
import type { Decider } from '@app/event-store';
import { validText } from '../user/user.decider';
import { evolveServiceAccount, initialServiceAccountState, type ServiceAccountState } from './service-account.state';

/** At most this many live tokens per service account (a rotation creates the new one before revoking the old). */
export const MAX_TOKENS = 20;
const DAY_MS = 86_400_000;

export type ServiceAccountCommand =
  | { kind: 'CreateServiceAccount'; serviceAccountId: string; organizationId: string; name: string; description?: string; createdBy: string }
  | { kind: 'ChangeServiceAccount'; serviceAccountId: string; organizationId: string; name?: string; description?: string; active?: boolean }
  | { kind: 'DeleteServiceAccount'; serviceAccountId: string; organizationId: string }
  /** `expiresAt` as asked (ISO 8601; absent: the maximum, or never when there is none); `maxDays` 0: no maximum */
  | { kind: 'CreateToken'; serviceAccountId: string; organizationId: string; tokenId: string; name: string; expiresAt?: string; maxDays: number }
  | { kind: 'RevokeToken'; serviceAccountId: string; organizationId: string; tokenId: string };

const invalid = (message: string, field: string) => new DomainError(ErrorCode.VALIDATION_FAILED, message, { errors: [{ field, message }] });

/** A deleted account, or one of another organization, is not found (existence is not leaked across organizations). */
function mustExist(state: ServiceAccountState, organizationId: string): asserts state is Required<ServiceAccountState> {
  if (!state.exists || state.deleted || state.organizationId !== organizationId) throw new DomainError(ErrorCode.NOT_FOUND, 'service account not found');
}

/** The token's expiry: in the future, and at most `maxDays` from now (absent: exactly that, or never without a maximum). */
export function tokenExpiry(asked: string | undefined, nowIso: string, maxDays: number): string | null {
  const now = Date.parse(nowIso);
  const max = maxDays > 0 ? now + maxDays * DAY_MS : Infinity;
  if (asked === undefined) return Number.isFinite(max) ? new Date(max).toISOString() : null;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(asked) ? Date.parse(asked) : NaN;
  if (Number.isNaN(at)) throw invalid('expiresAt must be an ISO 8601 date-time', 'expiresAt');
  if (at <= now) throw invalid('expiresAt must be in the future', 'expiresAt');
  if (at > max) throw invalid(`expiresAt must be at most ${maxDays} days from now`, 'expiresAt');
  return new Date(at).toISOString();
}

/**
 * Every rule of one service account. Pure: the time is the command's (`meta.timestamp`), the token ids derive
 * from the command id (the handler's), the secrets never come here. Name uniqueness in the organization is the
 * handler's (a reservation), as usernames are.
 */
export function decideServiceAccount(command: ServiceAccountCommand, state: ServiceAccountState, meta: CommandMeta): NewEvent[] {
  const orgId = command.organizationId;
  const ref = { serviceAccountId: command.serviceAccountId, organizationId: orgId };
  switch (command.kind) {
    case 'CreateServiceAccount':
      if (state.exists) return [];
      return [
        newEvent(
          ServiceAccountCreated,
          {
            ...ref,
            name: validText(Username, command.name, 'name'),
            description: validText(Description, command.description ?? '', 'description'),
            createdBy: command.createdBy,
          },
          orgId,
        ),
      ];
    case 'ChangeServiceAccount': {
      mustExist(state, orgId);
      const events: NewEvent[] = [];
      const name = command.name === undefined ? state.name : validText(Username, command.name, 'name');
      const description = command.description === undefined ? state.description : validText(Description, command.description, 'description');
      if (name !== state.name || description !== state.description)
        events.push(newEvent(ServiceAccountDetailsChanged, { ...ref, name, description, previousName: state.name }, orgId));
      if (command.active === false && state.active) events.push(newEvent(ServiceAccountDeactivated, { ...ref, name }, orgId));
      if (command.active === true && !state.active) events.push(newEvent(ServiceAccountReactivated, { ...ref, name }, orgId));
      return events;
    }
    case 'DeleteServiceAccount':
      mustExist(state, orgId);
      return [newEvent(ServiceAccountDeleted, { ...ref, name: state.name }, orgId)];
    case 'CreateToken': {
      mustExist(state, orgId);
      if (state.tokens[command.tokenId]) return [];
      const name = validText(EntityName, command.name, 'name');
      const expiresAt = tokenExpiry(command.expiresAt, meta.timestamp, command.maxDays);
      if (Object.keys(state.tokens).length >= MAX_TOKENS) throw invalid(`a service account has at most ${MAX_TOKENS} tokens; revoke one first`, 'name');
      return [newEvent(ServiceAccountTokenCreated, { ...ref, tokenId: command.tokenId, name, expiresAt }, orgId)];
    }
    case 'RevokeToken': {
      mustExist(state, orgId);
      const token = state.tokens[command.tokenId];
      if (!token) throw new DomainError(ErrorCode.NOT_FOUND, 'token not found');
      return [newEvent(ServiceAccountTokenRevoked, { ...ref, tokenId: command.tokenId, name: token.name }, orgId)];
    }
  }
}

export const serviceAccountDecider: Decider<ServiceAccountState, ServiceAccountCommand> = {
  initialState: initialServiceAccountState,
  evolve: evolveServiceAccount,
  decide: decideServiceAccount,
};
