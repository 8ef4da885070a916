import type { CatalogueEvent } from '@app/contracts';

/** A token of a service account that is neither revoked nor gone with its account (expired ones stay until revoked). */
export interface ServiceAccountToken {
  name: string;
  createdAt: string;
  /** ISO 8601; null: never */
  expiresAt: string | null;
}

/** One service account (identity's aggregate, stream `service-account-<id>`): docs/identity.md "Service accounts". */
export interface ServiceAccountState {
  exists: boolean;
  deleted?: boolean;
  id?: string;
  organizationId?: string;
  name?: string;
  description?: string;
  active?: boolean;
  createdBy?: string;
  createdAt?: string;
  /** tokenId → its metadata (never the secret or its hash) */
  tokens?: Record<string, ServiceAccountToken>;
}

export const initialServiceAccountState: ServiceAccountState = { exists: false };

export const serviceAccountStreamId = (serviceAccountId: string): string => `service-account-${serviceAccountId}`;

export function evolveServiceAccount(state: ServiceAccountState, event: CatalogueEvent): ServiceAccountState {
  switch (event.type) {
    case 'service-account.created': {
      const d = event.data;
      return {
        exists: true,
        id: d.serviceAccountId,
        organizationId: d.organizationId,
        name: d.name,
        description: d.description,
        active: true,
        createdBy: d.createdBy,
        createdAt: event.occurredAt,
        tokens: {},
      };
    }
    case 'service-account.details-changed':
      return { ...state, name: event.data.name, description: event.data.description };
    case 'service-account.deactivated':
      return { ...state, active: false };
    case 'service-account.reactivated':
      return { ...state, active: true };
    case 'service-account.deleted':
      return { ...state, deleted: true, active: false, tokens: {} };
    case 'service-account.token-created': {
      const { tokenId, name, expiresAt } = event.data;
      return { ...state, tokens: { ...state.tokens, [tokenId]: { name, createdAt: event.occurredAt, expiresAt } } };
    }
    case 'service-account.token-revoked': {
      const { [event.data.tokenId]: _revoked, ...tokens } = state.tokens ?? {};
      return { ...state, tokens };
    }
    default:
      return state;
  }
}

/** Whether a token of this account authenticates at `now` (ms): the account is active and not deleted, the token neither revoked nor expired. */
export function tokenUsable(state: ServiceAccountState, tokenId: string, now: number): boolean {
  const token = state.tokens?.[tokenId];
  return !!(state.exists && !state.deleted && state.active && token && (token.expiresAt === null || Date.parse(token.expiresAt) > now));
}
