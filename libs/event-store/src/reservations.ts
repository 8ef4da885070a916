import type { Collection, Db } from 'mongodb';
import { RESERVATIONS } from './commit';
import { isDuplicateKey } from './errors';

/**
 * Uniqueness across aggregates (usernames, emails, slugs, group and role names): a value is claimed here,
 * under a unique `_id`, before the append that uses it, confirmed after the append, and released when the
 * append fails or the aggregate stops using it. A claim that was never confirmed (the writer crashed between
 * claim and append) can be taken over after `staleAfterMs`.
 */
interface ReservationDocument {
  _id: string;
  kind: string;
  value: string;
  owner: string;
  confirmed: boolean;
  claimedAt: Date;
}

export type Reservations = ReturnType<typeof createReservations>;

export function createReservations(db: Db, staleAfterMs = 60_000) {
  const col: Collection<ReservationDocument> = db.collection<ReservationDocument>(RESERVATIONS);
  const key = (kind: string, value: string) => `${kind}:${value}`;

  /** Returns true when `owner` now holds the value (also when it already did). */
  async function claim(kind: string, value: string, owner: string): Promise<boolean> {
    const _id = key(kind, value);
    try {
      await col.insertOne({ _id, kind, value, owner, confirmed: false, claimedAt: new Date() });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const existing = await col.findOne({ _id });
    if (!existing) return claim(kind, value, owner); // released in between
    if (existing.owner === owner) return true;
    if (!existing.confirmed && Date.now() - existing.claimedAt.getTime() > staleAfterMs) {
      const taken = await col.updateOne(
        { _id, owner: existing.owner, confirmed: false, claimedAt: existing.claimedAt },
        { $set: { owner, claimedAt: new Date() } },
      );
      return taken.modifiedCount === 1;
    }
    return false;
  }

  async function confirm(kind: string, value: string, owner: string): Promise<void> {
    await col.updateOne({ _id: key(kind, value), owner }, { $set: { confirmed: true } });
  }

  async function release(kind: string, value: string, owner: string): Promise<void> {
    await col.deleteOne({ _id: key(kind, value), owner });
  }

  async function ownerOf(kind: string, value: string): Promise<string | undefined> {
    return (await col.findOne({ _id: key(kind, value) }))?.owner;
  }

  return { claim, confirm, release, ownerOf };
}
