import type { Db, MongoClient } from 'mongodb';
import { ErrorCode } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { assertNotThrottled, recordFailure, THROTTLE } from './login-throttle';

/** The brute-force counters on FerretDB: a window starts at the first failure, so no clock boundary resets it. */
describe('login throttle (FerretDB)', () => {
  let mongo: MongoClient;
  let db: Db;
  const minute = 60_000;
  // one millisecond before a quarter hour of the wall clock: where a fixed clock window would end
  const boundary = Math.ceil(Date.now() / THROTTLE.windowMs) * THROTTLE.windowMs;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('login-throttle'));
  });
  afterAll(async () => mongo.close());

  const limited = (login: string, ip: string | undefined, now: number) =>
    assertNotThrottled(db, login, ip, now).then(
      () => false,
      (e: { code?: string; details?: { retryAfterSeconds: number } }) => {
        expect(e.code).toBe(ErrorCode.RATE_LIMITED);
        return e.details?.retryAfterSeconds ?? -1;
      },
    );

  it('10 failures for one login spread across a quarter hour of the clock are counted together', async () => {
    for (let i = 0; i < 5; i++) await recordFailure(db, 'Victim', undefined, boundary - 5 + i);
    for (let i = 0; i < 5; i++) await recordFailure(db, 'victim', undefined, boundary + i);
    expect(await limited('VICTIM', undefined, boundary + 10)).toBe(15 * 60);
    // the window is 15 minutes from the first failure: refused until then, accepted after
    expect(await limited('victim', undefined, boundary - 5 + THROTTLE.windowMs - minute)).toBe(60);
    expect(await limited('victim', undefined, boundary - 5 + THROTTLE.windowMs)).toBe(false);
  });

  it('an ended window starts again from one', async () => {
    const start = boundary + 2 * THROTTLE.windowMs;
    for (let i = 0; i < 9; i++) await recordFailure(db, 'again', undefined, start + i);
    await recordFailure(db, 'again', undefined, start + THROTTLE.windowMs + 1);
    expect(await limited('again', undefined, start + THROTTLE.windowMs + 2)).toBe(false);
  });

  it('50 failures from one IP across many logins refuse that IP, not another', async () => {
    for (let i = 0; i < 50; i++) await recordFailure(db, `nobody-${i}`, '203.0.113.7', boundary - 25 + i);
    expect(await limited('someone-else', '203.0.113.7', boundary + 30)).toBeGreaterThan(0);
    expect(await limited('someone-else', '203.0.113.8', boundary + 30)).toBe(false);
  });
});
