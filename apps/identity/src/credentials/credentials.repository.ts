import type { Collection, Db } from 'mongodb';
import type { CatalogueEvent } from '@app/contracts';
import { ensureIndexes } from '@app/event-store';

/**
 * Secrets are not event-sourced: events say that a credential changed (and a token's id), these collections
 * hold the hashes. An API token is valid only while its id is the user's current one in the read model; a
 * session only while its epoch is the user's current session epoch (raised by `user.sessions-ended`).
 */
export interface ApiTokenDocument {
  _id: string; // sha256 of the token
  userId: string;
  tokenId: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface PasswordDocument {
  _id: string; // user id
  hash: string;
  temporary: boolean;
  setAt: Date;
}

export interface SessionDocument {
  _id: string; // sha256 of the session token
  userId: string;
  epoch: number;
  createdAt: Date;
  expiresAt: Date;
}

/** A service account's token (docs/identity.md "Service accounts"): valid while the read model has its id live. */
export interface ServiceAccountTokenDocument {
  _id: string; // sha256 of the token
  serviceAccountId: string;
  tokenId: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const serviceAccountTokens = (db: Db): Collection<ServiceAccountTokenDocument> => db.collection<ServiceAccountTokenDocument>('service_account_tokens');
export const apiTokens = (db: Db): Collection<ApiTokenDocument> => db.collection<ApiTokenDocument>('api_tokens');
export const passwords = (db: Db): Collection<PasswordDocument> => db.collection<PasswordDocument>('passwords');
export const sessions = (db: Db): Collection<SessionDocument> => db.collection<SessionDocument>('sessions');

export async function ensureCredentialIndexes(db: Db): Promise<void> {
  await ensureIndexes(apiTokens(db), [{ key: { userId: 1 }, name: 'user' }]);
  await ensureIndexes(sessions(db), [{ key: { userId: 1 }, name: 'user' }]);
  await ensureIndexes(serviceAccountTokens(db), [{ key: { serviceAccountId: 1 }, name: 'service_account' }]);
}

export async function storeApiToken(db: Db, doc: ApiTokenDocument): Promise<void> {
  await apiTokens(db).updateOne({ _id: doc._id }, { $set: doc }, { upsert: true });
}

/**
 * Token ids that a later event of the user's stream superseded: every id of a `user.api-token-reset` but the
 * current one (none is current after `user.api-token-revoked`). An id that is not in the stream yet (a reset
 * whose credential is stored but whose event is not appended) is never among them.
 */
export function supersededTokenIds(events: CatalogueEvent[]): string[] {
  const issued: string[] = [];
  let current: string | undefined;
  for (const e of events) {
    if (e.type === 'user.api-token-reset') issued.push((current = e.data.tokenId));
    else if (e.type === 'user.api-token-revoked') current = undefined;
  }
  return issued.filter((id) => id !== current);
}

/** Deletes the credentials of the user's superseded token ids (they are refused already; this only tidies). */
export async function deleteSupersededApiTokens(db: Db, userId: string, events: CatalogueEvent[]): Promise<void> {
  const superseded = supersededTokenIds(events);
  if (superseded.length) await apiTokens(db).deleteMany({ userId, tokenId: { $in: superseded } });
}

export async function storePassword(db: Db, userId: string, hash: string, temporary: boolean): Promise<void> {
  await passwords(db).updateOne({ _id: userId }, { $set: { hash, temporary, setAt: new Date() } }, { upsert: true });
}
