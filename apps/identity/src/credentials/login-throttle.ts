import type { Db } from 'mongodb';
import { DomainError, ErrorCode } from '@app/contracts';
import { upsertAgainIfRaced } from '@app/event-store';

/**
 * Brute-force protection that cannot be used to lock someone out. Failed password checks are counted per
 * (login, client IP) pair and per client IP, in MongoDB so every replica sees the same counts. A key may fail
 * `free` times; each failure after that blocks the key for a delay that doubles from `firstDelayMs` up to
 * `maxDelayMs`; while blocked, password checks of the key answer RATE_LIMITED without running scrypt. So
 * someone guessing a colleague's password from their own address slows only themselves: the colleague, from
 * another address, logs in as usual. A key is forgotten `forgetAfterMs` after its last failure, and a
 * successful login clears its pair. The login is lowercased (unknown logins are counted too).
 */
export const THROTTLE = {
  pair: { free: 5 },
  ip: { free: 50 },
  firstDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 24 * 60 * 60_000,
};

interface FailureDocument {
  _id: string;
  count: number;
  blockedUntil: Date;
  expiresAt: Date;
}

const failures = (db: Db) => db.collection<FailureDocument>('login_failures');
const pairKey = (login: string, ip: string | undefined) => `pair:${ip ?? '-'}:${String(login).toLowerCase().slice(0, 320)}`;
const ipKey = (ip: string) => `ip:${ip}`;
const keysOf = (login: string, ip: string | undefined) => [
  { _id: pairKey(login, ip), free: THROTTLE.pair.free },
  ...(ip ? [{ _id: ipKey(ip), free: THROTTLE.ip.free }] : []),
];

/** Pure: how long a key that has failed `count` times in a row is blocked after its last failure. */
export const blockFor = (count: number, free: number): number =>
  count <= free ? 0 : Math.min(THROTTLE.maxDelayMs, THROTTLE.firstDelayMs * 2 ** Math.min(count - free - 1, 30));

/** What the throttle counts (identity's metrics, login-metrics.ts). */
export interface LoginMetrics {
  failure(): void;
  lockedOut(): void;
}

export async function assertNotThrottled(db: Db, login: string, ip: string | undefined, now = Date.now(), metrics?: LoginMetrics): Promise<void> {
  const docs = await failures(db)
    .find({ _id: { $in: keysOf(login, ip).map((k) => k._id) } })
    .toArray();
  const until = Math.max(0, ...docs.map((d) => d.blockedUntil?.getTime() ?? 0));
  if (until > now) {
    metrics?.lockedOut();
    throw new DomainError(ErrorCode.RATE_LIMITED, 'too many failed attempts; try again later', {
      retryAfterSeconds: Math.ceil((until - now) / 1000),
    });
  }
}

/** Counts one failure of each key (a key last failed more than `forgetAfterMs` ago starts again from one). */
export async function recordFailure(db: Db, login: string, ip: string | undefined, at = Date.now(), metrics?: LoginMetrics): Promise<void> {
  metrics?.failure();
  const now = new Date(at);
  const expiresAt = new Date(at + THROTTLE.forgetAfterMs);
  for (const { _id, free } of keysOf(login, ip)) {
    const live = await failures(db).findOneAndUpdate(
      { _id, expiresAt: { $gt: now } },
      { $inc: { count: 1 }, $set: { expiresAt } },
      { returnDocument: 'after' },
    );
    const count = live?.count ?? 1;
    // parallel first failures of one key race to insert it (a duplicate key on FerretDB): done again, it updates
    if (!live) await upsertAgainIfRaced(() => failures(db).updateOne({ _id }, { $set: { count, expiresAt, blockedUntil: now } }, { upsert: true }));
    const blocked = blockFor(count, free);
    if (blocked > 0) await failures(db).updateOne({ _id }, { $max: { blockedUntil: new Date(at + blocked) } });
  }
  void sweepForgottenKeys(db, at);
}

/** when each database's forgotten keys were last removed (this process) */
const lastSweep = new WeakMap<Db, number>();
const SWEEP_EVERY_MS = 60_000;

/**
 * Removes the keys forgotten before `at`, at most once a minute per database (undefined: not this time): a
 * forgotten key is already ignored (`expiresAt` in every filter), and on a database without an index on
 * `expiresAt` each removal reads the whole collection, which an attacker's failures must not repeat at will.
 * `recordFailure` does not wait for it.
 */
export function sweepForgottenKeys(db: Db, at: number): Promise<void> | undefined {
  const last = lastSweep.get(db);
  if (last !== undefined && at >= last && at - last < SWEEP_EVERY_MS) return undefined;
  lastSweep.set(db, at);
  return failures(db)
    .deleteMany({ expiresAt: { $lt: new Date(at) } })
    .then(
      () => undefined,
      () => undefined,
    );
}

export async function clearLoginFailures(db: Db, login: string, ip: string | undefined): Promise<void> {
  await failures(db).deleteOne({ _id: pairKey(login, ip) });
}
