import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import type { JetStreamManager, NatsConnection } from 'nats';
import { eventsStreamName } from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import { eventProducer, requireInfraEnv, testDatabaseName, testMongo, testNaming } from '@app/testing';
import { sharedProgress, waitUntilApplied } from './caught-up';
import { runLeasedProjection, type LeasedProjection } from './leased-projection';

/** Two replicas of one leased projection: one applies, in batches and in order; the other takes over when it stops. */
describe('runLeasedProjection: one replica at a time, batches in stream order, take-over (FerretDB and NATS JetStream)', () => {
  let mongo: MongoClient;
  let db: Db;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let producer: ReturnType<typeof eventProducer>;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('leased'));
    nc = await connectNats(requireInfraEnv().natsUrl, 'leased-test');
    await ensureStreams(nc, testNaming());
    jsm = await nc.jetstreamManager();
    producer = eventProducer(db, 'identity', nc);
    await producer.store.ensureIndexes();
  });
  afterAll(async () => {
    await producer.stop();
    await nc.drain();
    await mongo.close();
  });

  async function publish(n: number): Promise<number> {
    const userId = randomUUID();
    await producer.append(
      `user-${userId}`,
      Array.from({ length: n }, (_, i) => ({ type: 'user.screen-name-changed', version: 1, data: { userId, name: `n${i + 1}`, previousName: `n${i}` } })),
    );
    return (await jsm.streams.info(eventsStreamName(testNaming()))).state.last_seq;
  }

  it('the lease holder applies every event once, in order and in batches; after it stops the other replica goes on from the checkpoint', async () => {
    const name = `leased-${randomUUID().slice(0, 8)}`;
    const applied: Array<{ replica: number; sequences: number[] }> = [];
    const replica = (n: number): LeasedProjection =>
      runLeasedProjection({
        name,
        db,
        js: nc.jetstream(),
        jsm,
        naming: testNaming(),
        maxBatch: 50,
        renewEveryMs: 200,
        leaseTtlMs: 1000,
        async apply(batch) {
          applied.push({ replica: n, sequences: batch.map((e) => e.sequence) });
        },
      });
    const first = await publish(120);
    const [a, b] = [replica(1), replica(2)];
    expect(
      await waitUntilApplied(
        sharedProgress(() => a.shared!()),
        first,
        20_000,
      ),
    ).toBe(true);
    const leader = applied[0].replica;
    expect(new Set(applied.map((x) => x.replica))).toEqual(new Set([leader]));
    expect(applied.some((x) => x.sequences.length > 1)).toBe(true);
    await (leader === 1 ? a : b).stop();
    const second = await publish(30);
    const other = leader === 1 ? b : a;
    expect(await waitUntilApplied(other, second, 20_000)).toBe(true);
    await other.stop();
    const all = applied.flatMap((x) => x.sequences);
    // every event of this file's stream up to `second`, once each, in stream order; the last ones by the other replica
    expect(all).toEqual(Array.from({ length: second }, (_, i) => i + 1));
    expect(applied[applied.length - 1].replica).not.toBe(leader);
  }, 60_000);
});
