import { DomainError, ErrorCode, UserApiTokenReset, UserCreated, type CommandMeta, type NewEvent } from '@app/contracts';
import type { Decider } from '@app/event-store';
import { evolveUser, initialUserState, type UserState } from './user.state';

export type UserCommand =
  | {
      kind: 'BootstrapAdmin';
      userId: string;
      username: string;
      email: string;
      tokenId: string;
    }
  | { kind: 'ResetApiToken'; userId: string; tokenId: string };

const event = (def: { type: string; version: number }, data: Record<string, unknown>): NewEvent => ({
  type: def.type,
  version: def.version,
  data,
});

export function decideUser(command: UserCommand, state: UserState, _meta: CommandMeta): NewEvent[] {
  switch (command.kind) {
    case 'BootstrapAdmin':
      if (state.exists) return [];
      return [
        event(UserCreated, {
          userId: command.userId,
          username: command.username,
          email: command.email,
          name: command.username,
          createdBy: 'bootstrap',
          managedByOrganizationId: null,
          temporaryPassword: false,
        }),
        event(UserApiTokenReset, { userId: command.userId, tokenId: command.tokenId }),
      ];
    case 'ResetApiToken':
      if (!state.exists) throw new DomainError(ErrorCode.NOT_FOUND, 'user not found');
      return [event(UserApiTokenReset, { userId: command.userId, tokenId: command.tokenId })];
  }
}

export const userDecider: Decider<UserState, UserCommand> = {
  initialState: initialUserState,
  evolve: evolveUser,
  decide: decideUser,
};
