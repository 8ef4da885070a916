import type { Db, MongoClient } from 'mongodb';
import { ErrorCode } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { assertNotThrottled, blockFor, clearLoginFailures, recordFailure, sweepForgottenKeys, THROTTLE } from './login-throttle';

describe('login throttle: blockFor', () => {
  it('lets `free` failures pass, then doubles the block from the first delay up to the maximum', () => {
    expect([1, 5].map((n) => blockFor(n, 5))).toEqual([0, 0]);
    expect([6, 7, 8].map((n) => blockFor(n, 5))).toEqual([30_000, 60_000, 120_000]);
    expect(blockFor(1000, 5)).toBe(THROTTLE.maxDelayMs);
  });
});

/** The counters on FerretDB: per (login, IP) pair and per IP, with a growing block and no lock-out of others. */
describe('login throttle (FerretDB)', () => {
  let mongo: MongoClient;
  let db: Db;
  const t0 = Date.now();
  const { free } = THROTTLE.pair;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('login-throttle'));
  });
  afterAll(async () => mongo.close());

  /** false, or the retryAfterSeconds of the RATE_LIMITED answer */
  const limited = (login: string, ip: string | undefined, now: number) =>
    assertNotThrottled(db, login, ip, now).then(
      () => false,
      (e: { code?: string; details?: { retryAfterSeconds: number } }) => {
        expect(e.code).toBe(ErrorCode.RATE_LIMITED);
        return e.details?.retryAfterSeconds ?? -1;
      },
    );

  it('an attacker guessing a login from one address blocks that pair only: the owner logs in from another', async () => {
    for (let i = 0; i < free; i++) await recordFailure(db, 'Victim', '198.51.100.1', t0 + i);
    expect(await limited('victim', '198.51.100.1', t0 + free)).toBe(false); // `free` failures cost nothing yet
    await recordFailure(db, 'victim', '198.51.100.1', t0 + 10);
    expect(await limited('VICTIM', '198.51.100.1', t0 + 11)).toBe(30);
    expect(await limited('victim', '198.51.100.2', t0 + 11)).toBe(false);
    expect(await limited('victim', '198.51.100.1', t0 + 10 + 30_000)).toBe(false); // the block ends
  });

  it('each further failure doubles the block, and a success from the pair clears it', async () => {
    for (let i = 0; i < free + 3; i++) await recordFailure(db, 'again', '198.51.100.3', t0 + i);
    expect(await limited('again', '198.51.100.3', t0 + free + 3)).toBe(120);
    await clearLoginFailures(db, 'again', '198.51.100.3');
    expect(await limited('again', '198.51.100.3', t0 + free + 4)).toBe(false);
  });

  it('a pair forgotten after a day starts again from one', async () => {
    for (let i = 0; i < free; i++) await recordFailure(db, 'later', '198.51.100.4', t0 + i);
    await recordFailure(db, 'later', '198.51.100.4', t0 + THROTTLE.forgetAfterMs + free);
    expect(await limited('later', '198.51.100.4', t0 + THROTTLE.forgetAfterMs + free + 1)).toBe(false);
  });

  it('50 failures from one address across many logins block that address for every login, not another address', async () => {
    // two days on: the clean-up that the test before started a day on (recordFailure does not wait for it)
    // removes every key that expires before then, and would take these first failures with it
    const t = t0 + 2 * THROTTLE.forgetAfterMs;
    for (let i = 0; i <= THROTTLE.ip.free; i++) await recordFailure(db, `nobody-${i}`, '203.0.113.7', t + i);
    expect(await limited('someone-else', '203.0.113.7', t + 100)).toBe(30);
    expect(await limited('someone-else', '203.0.113.8', t + 100)).toBe(false);
  });

  it('forgotten keys are removed at most once a minute, however many failures come', async () => {
    const own = mongo.db(testDatabaseName('login-throttle-sweep'));
    const keys = async () => (await own.collection('login_failures').find().toArray()).map((d) => String(d._id).replace('pair:-:', '')).sort();
    /** the removal is not awaited by recordFailure */
    const until = async (want: string[]) => {
      for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (`${await keys()}` === `${want}`) return;
      expect(await keys()).toEqual(want);
    };
    const day = THROTTLE.forgetAfterMs;
    const t = t0 + 10 * day;
    await recordFailure(own, 'old', undefined, t); // this process's first failure on the database: a sweep, at t
    await recordFailure(own, 'mid', undefined, t + 30_000); // within that minute: none
    // a day on, 'old' is forgotten: the first failure sweeps it away ('mid' is forgotten 30 s later)
    await recordFailure(own, 'a', undefined, t + day + 1);
    await until(['a', 'mid']);
    // failures for the rest of that minute sweep nothing: 'mid', forgotten meanwhile, stays
    for (let s = 31; s < 60; s += 2) await recordFailure(own, 'b', undefined, t + day + s * 1000);
    expect(await keys()).toEqual(['a', 'b', 'mid']);
    await recordFailure(own, 'c', undefined, t + day + 61_000);
    await until(['a', 'b', 'c']);
    expect(sweepForgottenKeys(own, t + day + 62_000)).toBeUndefined();
  });
});
