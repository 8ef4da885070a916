import type { Db } from 'mongodb';
import { DomainError, ErrorCode } from '@app/contracts';

/**
 * Brute-force protection: failed password checks are counted per login (lowercased, also for unknown
 * logins) and per client IP, in MongoDB so every replica sees the same counts. A count lives 15 minutes
 * from its first failure (a window that starts with the attack, so no wall-clock boundary halves it).
 * At 10 failures for a login or 50 for an IP, password checks answer RATE_LIMITED (without running scrypt)
 * until that window ends. A successful login clears its login's counter.
 */
export const THROTTLE = { windowMs: 15 * 60_000, perLogin: 10, perIp: 50 };

interface FailureDocument {
  _id: string;
  count: number;
  expiresAt: Date;
}

const failures = (db: Db) => db.collection<FailureDocument>('login_failures');
const loginKey = (login: string) => `login:${String(login).toLowerCase().slice(0, 320)}`;
const ipKey = (ip: string) => `ip:${ip}`;

export async function assertNotThrottled(db: Db, login: string, ip: string | undefined, now = Date.now()): Promise<void> {
  const ids = [loginKey(login), ...(ip ? [ipKey(ip)] : [])];
  const docs = await failures(db)
    .find({ _id: { $in: ids } })
    .toArray();
  for (const d of docs) {
    const limit = d._id.startsWith('ip:') ? THROTTLE.perIp : THROTTLE.perLogin;
    if (d.count >= limit && d.expiresAt.getTime() > now)
      throw new DomainError(ErrorCode.RATE_LIMITED, 'too many failed attempts; try again later', {
        retryAfterSeconds: Math.max(1, Math.ceil((d.expiresAt.getTime() - now) / 1000)),
      });
  }
}

/**
 * Counts one failure: adds to a live window, or starts a new one when there is none or it ended. Two
 * replicas starting the same new window at once may lose one count, never more.
 */
export async function recordFailure(db: Db, login: string, ip: string | undefined, at = Date.now()): Promise<void> {
  const now = new Date(at);
  for (const _id of [loginKey(login), ...(ip ? [ipKey(ip)] : [])]) {
    const live = await failures(db).updateOne({ _id, expiresAt: { $gt: now } }, { $inc: { count: 1 } });
    if (live.matchedCount === 0)
      await failures(db).updateOne({ _id }, { $set: { count: 1, expiresAt: new Date(now.getTime() + THROTTLE.windowMs) } }, { upsert: true });
  }
  void failures(db)
    .deleteMany({ expiresAt: { $lt: now } })
    .catch(() => undefined);
}

export async function clearLoginFailures(db: Db, login: string): Promise<void> {
  await failures(db).deleteOne({ _id: loginKey(login) });
}
