import type { Collection, Db } from 'mongodb';

/**
 * Secrets are not event-sourced: events say that a token was issued (and its id), this collection holds
 * the SHA-256 of the token under that id. A token is valid only while its id is the user's current one.
 */
export interface ApiTokenDocument {
  _id: string; // sha256 of the token
  userId: string;
  tokenId: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function apiTokens(db: Db): Collection<ApiTokenDocument> {
  return db.collection<ApiTokenDocument>('api_tokens');
}

export async function storeApiToken(db: Db, doc: ApiTokenDocument): Promise<void> {
  await apiTokens(db).updateOne({ _id: doc._id }, { $set: doc }, { upsert: true });
}
