import type { DomainEvent } from '@app/contracts';

export interface UserState {
  exists: boolean;
  id?: string;
  username?: string;
  email?: string;
  name?: string;
  createdAt?: string;
  tokenId?: string;
}

export const initialUserState: UserState = { exists: false };

export const userStreamId = (userId: string): string => `user-${userId}`;

export function evolveUser(state: UserState, event: DomainEvent): UserState {
  const d = event.data as Record<string, string>;
  switch (event.type) {
    case 'user.created':
      return { exists: true, id: d.userId, username: d.username, email: d.email, name: d.name, createdAt: event.occurredAt };
    case 'user.api-token-reset':
      return { ...state, tokenId: d.tokenId };
    default:
      return state;
  }
}
