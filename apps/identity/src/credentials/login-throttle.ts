import type { Db } from 'mongodb';
import { DomainError, ErrorCode } from '@app/contracts';

/**
 * Brute-force protection: failed password checks are counted per login (lowercased, also for unknown
 * logins) and per client IP in fixed 15-minute windows, in MongoDB so every replica sees the same counts.
 * At 10 failures for a login or 50 for an IP, password checks answer RATE_LIMITED (without running scrypt)
 * until the window ends. A successful login clears its login's counter.
 */
export const THROTTLE = { windowMs: 15 * 60_000, perLogin: 10, perIp: 50 };

interface FailureDocument {
  _id: string;
  count: number;
  expiresAt: Date;
}

const failures = (db: Db) => db.collection<FailureDocument>('login_failures');
const bucket = (now: number) => Math.floor(now / THROTTLE.windowMs);
const loginKey = (login: string, now: number) => `login:${String(login).toLowerCase().slice(0, 320)}:${bucket(now)}`;
const ipKey = (ip: string, now: number) => `ip:${ip}:${bucket(now)}`;

export async function assertNotThrottled(db: Db, login: string, ip: string | undefined): Promise<void> {
  const now = Date.now();
  const ids = [loginKey(login, now), ...(ip ? [ipKey(ip, now)] : [])];
  const docs = await failures(db)
    .find({ _id: { $in: ids } })
    .toArray();
  for (const d of docs) {
    const limit = d._id.startsWith('ip:') ? THROTTLE.perIp : THROTTLE.perLogin;
    if (d.count >= limit)
      throw new DomainError(ErrorCode.RATE_LIMITED, 'too many failed attempts; try again later', {
        retryAfterSeconds: Math.ceil(((bucket(now) + 1) * THROTTLE.windowMs - now) / 1000),
      });
  }
}

export async function recordFailure(db: Db, login: string, ip: string | undefined): Promise<void> {
  const now = Date.now();
  const expiresAt = new Date((bucket(now) + 1) * THROTTLE.windowMs);
  for (const _id of [loginKey(login, now), ...(ip ? [ipKey(ip, now)] : [])])
    await failures(db).updateOne({ _id }, { $inc: { count: 1 }, $setOnInsert: { expiresAt } }, { upsert: true });
  void failures(db)
    .deleteMany({ expiresAt: { $lt: new Date(now) } })
    .catch(() => undefined);
}

export async function clearLoginFailures(db: Db, login: string): Promise<void> {
  await failures(db).deleteOne({ _id: loginKey(login, Date.now()) });
}
