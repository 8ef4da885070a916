import {
  checkText,
  DomainError,
  Email,
  ErrorCode,
  PersonName,
  Username,
  UserApiTokenReset,
  UserApiTokenRevoked,
  UserCreated,
  UserEmailChanged,
  UserPasswordSet,
  UserScreenNameChanged,
  UserSessionsEnded,
  UserUsernameChanged,
  type CommandMeta,
  type NewEvent,
  type TextField,
} from '@app/contracts';
import type { Decider } from '@app/event-store';
import { passwordProblem } from './password-policy';
import { evolveUser, initialUserState, type UserState } from './user.state';

/**
 * Commands on one user. Secrets never reach an event: SetPassword carries the new password only so that
 * the (pure) policy can be checked here; the hash is stored by the handler, outside the event stream.
 */
export type UserCommand =
  | { kind: 'BootstrapAdmin'; userId: string; username: string; email: string; tokenId: string }
  | { kind: 'CreateAccount'; userId: string; username: string; email: string; name: string; organizationId: string }
  | { kind: 'ChangeUsername'; userId: string; username: string }
  | { kind: 'ChangeScreenName'; userId: string; name: string }
  | { kind: 'ChangeEmail'; userId: string; email: string }
  /** `currentPassword`: the password the user proved they know (the temporary one at first login) */
  | { kind: 'SetPassword'; userId: string; newPassword: string; currentPassword: string }
  | { kind: 'ResetPasswordToTemporary'; userId: string; organizationId: string }
  | { kind: 'ResetApiToken'; userId: string; tokenId: string }
  /** logout: ends every session of the user, if the one logging out (of `epoch`) has not ended already */
  | { kind: 'EndSessions'; userId: string; epoch: number };

const event = (def: { type: string; version: number }, data: Record<string, unknown>): NewEvent => ({
  type: def.type,
  version: def.version,
  data,
});

const invalid = (message: string) => new DomainError(ErrorCode.VALIDATION_FAILED, message);

/** The value as stored (the field kind's normalization, libs/contracts/src/fields.ts), or VALIDATION_FAILED. */
export function validText(kind: TextField, value: unknown, field?: string): string {
  const r = checkText(kind, value, field);
  if (r.problem !== null) throw invalid(r.problem);
  return r.value;
}

function mustExist(state: UserState): void {
  if (!state.exists) throw new DomainError(ErrorCode.NOT_FOUND, 'user not found');
}

export function decideUser(command: UserCommand, state: UserState, _meta: CommandMeta): NewEvent[] {
  switch (command.kind) {
    case 'BootstrapAdmin':
      if (state.exists) return [];
      return [
        event(UserCreated, {
          userId: command.userId,
          username: validText(Username, command.username),
          email: validText(Email, command.email),
          name: validText(PersonName, command.username),
          createdBy: 'bootstrap',
          managedByOrganizationId: null,
          temporaryPassword: false,
        }),
        event(UserApiTokenReset, { userId: command.userId, tokenId: command.tokenId }),
      ];
    case 'CreateAccount':
      if (state.exists) return [];
      return [
        event(UserCreated, {
          userId: command.userId,
          username: validText(Username, command.username),
          email: validText(Email, command.email),
          name: validText(PersonName, command.name),
          createdBy: 'organization',
          managedByOrganizationId: command.organizationId,
          temporaryPassword: true,
        }),
      ];
    case 'ChangeUsername': {
      mustExist(state);
      const username = validText(Username, command.username);
      if (username === state.username) return [];
      return [event(UserUsernameChanged, { userId: state.id, username, previousUsername: state.username })];
    }
    case 'ChangeScreenName': {
      mustExist(state);
      const name = validText(PersonName, command.name);
      if (name === state.name) return [];
      return [event(UserScreenNameChanged, { userId: state.id, name, previousName: state.name })];
    }
    case 'ChangeEmail': {
      mustExist(state);
      const email = validText(Email, command.email);
      if (email === state.email) return [];
      return [event(UserEmailChanged, { userId: state.id, email, previousEmail: state.email })];
    }
    case 'SetPassword': {
      mustExist(state);
      const problem = passwordProblem(command.newPassword, state, command.currentPassword);
      if (problem) throw new DomainError(ErrorCode.WEAK_PASSWORD, `password ${problem}`);
      if (state.passwordTemporary) return [event(UserPasswordSet, { userId: state.id, temporary: false, reason: 'first-login', organizationId: null })];
      return [
        event(UserPasswordSet, { userId: state.id, temporary: false, reason: 'changed', organizationId: null }),
        event(UserSessionsEnded, { userId: state.id, reason: 'password-changed' }),
      ];
    }
    case 'ResetPasswordToTemporary':
      mustExist(state);
      if (!state.managedByOrganizationId || state.managedByOrganizationId !== command.organizationId)
        throw new DomainError(ErrorCode.NOT_MANAGED_ACCOUNT, 'this account was not created by this organization');
      // the account may be compromised: its personal API token goes with its sessions (docs/identity.md)
      return [
        event(UserPasswordSet, { userId: state.id, temporary: true, reason: 'reset', organizationId: command.organizationId }),
        event(UserSessionsEnded, { userId: state.id, reason: 'password-reset' }),
        ...(state.tokenId
          ? [event(UserApiTokenRevoked, { userId: state.id, tokenId: state.tokenId, reason: 'password-reset', organizationId: command.organizationId })]
          : []),
      ];
    case 'ResetApiToken':
      mustExist(state);
      if (command.tokenId === state.tokenId) return [];
      return [event(UserApiTokenReset, { userId: command.userId, tokenId: command.tokenId })];
    case 'EndSessions':
      mustExist(state);
      if ((state.sessionEpoch ?? 0) !== command.epoch) return [];
      return [event(UserSessionsEnded, { userId: state.id, reason: 'logout' })];
  }
}

export const userDecider: Decider<UserState, UserCommand> = {
  initialState: initialUserState,
  evolve: evolveUser,
  decide: decideUser,
};
