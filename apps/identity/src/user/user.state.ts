import type { CatalogueEvent } from '@app/contracts';

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

export function evolveUser(state: UserState, event: CatalogueEvent): UserState {
  switch (event.type) {
    case 'user.created': {
      const d = event.data;
      return {
        exists: true,
        id: d.userId,
        username: d.username,
        email: d.email,
        name: d.name,
        createdAt: event.occurredAt,
        managedByOrganizationId: d.managedByOrganizationId,
        passwordTemporary: d.temporaryPassword,
        sessionEpoch: 0,
      };
    }
    case 'user.api-token-reset':
      return { ...state, tokenId: event.data.tokenId };
    case 'user.api-token-revoked': {
      const { tokenId: _revoked, ...rest } = state;
      return rest;
    }
    case 'user.username-changed':
      return { ...state, username: event.data.username };
    case 'user.screen-name-changed':
      return { ...state, name: event.data.name };
    case 'user.email-changed':
      return { ...state, email: event.data.email };
    case 'user.password-set':
      return { ...state, passwordTemporary: event.data.temporary };
    case 'user.sessions-ended':
      return { ...state, sessionEpoch: (state.sessionEpoch ?? 0) + 1 };
    default:
      return state;
  }
}
