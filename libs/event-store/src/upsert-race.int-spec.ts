import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { testDatabaseName, testMongo } from '@app/testing';
import { CHECKPOINTS } from './commit';
import { upsertAgainIfRaced } from './errors';
import { mongoCheckpoint } from './projection-runner';

/**
 * Upserts of a document that does not exist yet, made at once by several writers (replicas starting together): on
 * FerretDB some fail with a duplicate key (about a third of 12 at once, here), where MongoDB retries by itself.
 * Seen in CI as a membership replica that died at start-up writing its migration marker (`migrations`).
 */
describe('concurrent first upserts (FerretDB)', () => {
  let mongo: MongoClient;
  let db: Db;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('upsert-race'));
  });
  afterAll(async () => {
    await mongo.close();
  });

  const rejected = (outcomes: PromiseSettledResult<unknown>[]) =>
    outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));

  it('upsertAgainIfRaced: every writer of an insert-if-absent marker succeeds, and one document is left', async () => {
    const markers = db.collection<{ _id: string; n: number }>('markers');
    for (let round = 0; round < 20; round++) {
      const _id = `marker-${randomUUID()}`;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, n) => upsertAgainIfRaced(() => markers.updateOne({ _id }, { $setOnInsert: { n } }, { upsert: true }))),
      );
      expect(rejected(outcomes)).toEqual([]);
      expect(await markers.countDocuments({ _id })).toBe(1);
    }
  });

  it("a projection's checkpoint set by several replicas at once (a rebuild's reset): none fails", async () => {
    for (let round = 0; round < 20; round++) {
      const name = `projection-${randomUUID()}`;
      const checkpoint = mongoCheckpoint(db, name);
      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, n) => checkpoint.reset(n + 1)));
      expect(rejected(outcomes)).toEqual([]);
      // one checkpoint, holding one of the sequences written
      expect(await db.collection(CHECKPOINTS).countDocuments({ _id: name as never })).toBe(1);
      expect(await checkpoint.read()).toBeGreaterThan(0);
    }
  });
});
