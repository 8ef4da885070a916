import type { Collection, Db } from 'mongodb';
import { RESERVATIONS } from './commit';
import { duplicateKeyIndexes, isDuplicateKey } from './errors';

/**
 * Uniqueness across aggregates (usernames, emails, slugs, group and role names): a value is claimed here,
 * under a unique `_id`, before the append that uses it, confirmed after the append, and released when the
 * append fails or the aggregate stops using it. A claim that was never confirmed (the writer crashed between
 * claim and append) can be taken over after `staleAfterMs`.
 *
 * Many values can be claimed at once under a group (`claimMany`): one insert for all of them, and one
 * write (`confirmGroup`, on the group's own document) confirms them all. A claim counts as confirmed when
 * it is, or when its group is. (On FerretDB v1 every update by `_id` reads the whole collection, about
 * 5 ms per document at 1,000 reservations, while one insert of 1,000 documents takes about 0.1 s.)
 */
interface ReservationDocument {
  _id: string;
  kind: string;
  value: string;
  owner: string;
  confirmed: boolean;
  claimedAt: Date;
  /** set by claimMany: the claim is confirmed once the group's document is */
  group?: string;
}

export type Reservations = ReturnType<typeof createReservations>;

export interface ClaimRequest {
  kind: string;
  value: string;
  owner: string;
}

export function createReservations(db: Db, staleAfterMs = 60_000) {
  const col: Collection<ReservationDocument> = db.collection<ReservationDocument>(RESERVATIONS);
  const key = (kind: string, value: string) => `${kind}:${value}`;
  const groupKey = (group: string) => key('group', group);

  async function groupConfirmed(group: string | undefined): Promise<boolean> {
    return group !== undefined && (await col.findOne({ _id: groupKey(group) }))?.confirmed === true;
  }

  /** The claim of an existing document: true when `owner` holds it now (a stale unconfirmed claim is taken over). */
  async function claimExisting(existing: ReservationDocument, owner: string, group?: string): Promise<boolean> {
    if (existing.owner === owner) return true;
    if (existing.confirmed || Date.now() - existing.claimedAt.getTime() <= staleAfterMs || (await groupConfirmed(existing.group))) return false;
    const taken = await col.updateOne(
      { _id: existing._id, owner: existing.owner, confirmed: false, claimedAt: existing.claimedAt },
      group === undefined ? { $set: { owner, claimedAt: new Date() }, $unset: { group: '' } } : { $set: { owner, claimedAt: new Date(), group } },
    );
    return taken.modifiedCount === 1;
  }

  /** Returns true when `owner` now holds the value (also when it already did). */
  async function claim(kind: string, value: string, owner: string, group?: string): Promise<boolean> {
    const _id = key(kind, value);
    try {
      await col.insertOne({ _id, kind, value, owner, confirmed: false, claimedAt: new Date(), ...(group === undefined ? {} : { group }) });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const existing = await col.findOne({ _id });
    if (!existing) return claim(kind, value, owner, group); // released in between
    return claimExisting(existing, owner, group);
  }

  /**
   * Claims many values under `group` with one insert; `result[i]` is true when `claims[i].owner` holds the
   * value now (also when it already did: a retried group gets its own claims back). Values already held by
   * others are read with one query; only stale claims to take over cost more.
   */
  async function claimMany(group: string, claims: ClaimRequest[]): Promise<boolean[]> {
    await col.insertOne({ _id: groupKey(group), kind: 'group', value: group, owner: group, confirmed: false, claimedAt: new Date() }).catch((err) => {
      if (!isDuplicateKey(err)) throw err;
    });
    const claimedAt = new Date();
    const docs = claims.map((c) => ({ _id: key(c.kind, c.value), kind: c.kind, value: c.value, owner: c.owner, confirmed: false, claimedAt, group }));
    const result = claims.map(() => true);
    let failed: number[] = [];
    if (docs.length) {
      try {
        await col.insertMany(docs, { ordered: false });
      } catch (err) {
        const indexes = duplicateKeyIndexes(err);
        if (!indexes) throw err;
        failed = indexes;
      }
    }
    if (!failed.length) return result;
    const held = new Map((await col.find({ _id: { $in: failed.map((i) => docs[i]._id) } }).toArray()).map((d) => [d._id, d]));
    for (const i of failed) {
      const existing = held.get(docs[i]._id);
      result[i] = existing ? await claimExisting(existing, claims[i].owner, group) : await claim(claims[i].kind, claims[i].value, claims[i].owner, group);
    }
    return result;
  }

  async function confirm(kind: string, value: string, owner: string): Promise<void> {
    await col.updateOne({ _id: key(kind, value), owner }, { $set: { confirmed: true } });
  }

  /** Confirms every claim made under the group, with one write. */
  async function confirmGroup(group: string): Promise<void> {
    await col.updateOne({ _id: groupKey(group) }, { $set: { confirmed: true } });
  }

  async function release(kind: string, value: string, owner: string): Promise<void> {
    await col.deleteOne({ _id: key(kind, value), owner });
  }

  /** Releases the group's claims of these values (one delete). */
  async function releaseMany(group: string, claims: ClaimRequest[]): Promise<void> {
    if (!claims.length) return;
    await col.deleteMany({ _id: { $in: claims.map((c) => key(c.kind, c.value)) }, group, owner: { $in: [...new Set(claims.map((c) => c.owner))] } });
  }

  async function ownerOf(kind: string, value: string): Promise<string | undefined> {
    return (await col.findOne({ _id: key(kind, value) }))?.owner;
  }

  /** Owners of many values with one query: `kind:value` → owner. */
  async function ownersOf(keys: Array<{ kind: string; value: string }>): Promise<Map<string, string>> {
    if (!keys.length) return new Map();
    const docs = await col.find({ _id: { $in: keys.map((k) => key(k.kind, k.value)) } }, { projection: { owner: 1 } }).toArray();
    return new Map(docs.map((d) => [d._id, d.owner]));
  }

  return { claim, claimMany, confirm, confirmGroup, release, releaseMany, ownerOf, ownersOf };
}
