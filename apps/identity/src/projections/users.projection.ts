import type { Collection, Db } from 'mongodb';
import type { CatalogueEvent } from '@app/contracts';
import { ensureIndexes } from '@app/event-store';
import { evolveUser, initialUserState, type UserState } from '../user/user.state';

/** Identity's read model of users, for queries (look-ups by id, username, email, token). */
export interface UserDocument extends UserState {
  _id: string;
  usernameLower?: string;
  emailLower?: string;
  version: number;
}

export const usersCollection = (db: Db): Collection<UserDocument> => db.collection<UserDocument>('users');

export async function ensureUserIndexes(db: Db): Promise<void> {
  await ensureIndexes(usersCollection(db), [
    { key: { usernameLower: 1 }, name: 'username_lower' },
    { key: { emailLower: 1 }, name: 'email_lower' },
  ]);
}

/**
 * Applies events of one user to the read model. Idempotent: an event at or below the stored version is
 * ignored, so replays and redeliveries change nothing.
 */
export async function projectUserEvents(db: Db, events: CatalogueEvent[]): Promise<void> {
  if (!events.length) return;
  const users = usersCollection(db);
  const userId = events[0].streamId.slice('user-'.length);
  const current = await users.findOne({ _id: userId });
  const from = current?.version ?? 0;
  const fresh = events.filter((e) => e.streamVersion > from);
  if (!fresh.length) return;
  const { _id: _ignored, version: _v, usernameLower: _u, emailLower: _e, ...state } = current ?? ({} as UserDocument);
  const next = fresh.reduce(evolveUser, current ? (state as UserState) : initialUserState);
  const doc: UserDocument = {
    ...next,
    _id: userId,
    usernameLower: next.username?.toLowerCase(),
    emailLower: next.email?.toLowerCase(),
    version: fresh[fresh.length - 1].streamVersion,
  };
  if (current) await users.replaceOne({ _id: userId, version: from }, doc);
  else
    await users.insertOne(doc).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err; // a concurrent projector inserted it first
    });
}
