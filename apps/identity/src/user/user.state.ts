import type { DomainEvent } from '@app/contracts';

export interface UserState {
  exists: boolean;
  id?: string;
  username?: string;
  email?: string;
  name?: string;
  createdAt?: string;
  tokenId?: string;
  /** the organization that created the account and may reset its password (null: not managed) */
  managedByOrganizationId?: string | null;
  /** the current password is temporary: it must be changed before a session is granted */
  passwordTemporary?: boolean;
  /** increases with every `user.sessions-ended`; a session is valid only while it carries the current epoch */
  sessionEpoch?: number;
}

export const initialUserState: UserState = { exists: false };

export const userStreamId = (userId: string): string => `user-${userId}`;

export function evolveUser(state: UserState, event: DomainEvent): UserState {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'user.created':
      return {
        exists: true,
        id: d.userId as string,
        username: d.username as string,
        email: d.email as string,
        name: d.name as string,
        createdAt: event.occurredAt,
        managedByOrganizationId: (d.managedByOrganizationId as string | null) ?? null,
        passwordTemporary: d.temporaryPassword as boolean,
        sessionEpoch: 0,
      };
    case 'user.api-token-reset':
      return { ...state, tokenId: d.tokenId as string };
    case 'user.api-token-revoked': {
      const { tokenId: _revoked, ...rest } = state;
      return rest;
    }
    case 'user.username-changed':
      return { ...state, username: d.username as string };
    case 'user.screen-name-changed':
      return { ...state, name: d.name as string };
    case 'user.email-changed':
      return { ...state, email: d.email as string };
    case 'user.password-set':
      return { ...state, passwordTemporary: d.temporary as boolean };
    case 'user.sessions-ended':
      return { ...state, sessionEpoch: (state.sessionEpoch ?? 0) + 1 };
    default:
      return state;
  }
}
