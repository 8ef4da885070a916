import { randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import type { NatsConnection } from 'nats';
import { eventsStreamName } from '@app/contracts';
import { connectNats, ensureStreams, jetStreamManager } from '@app/messaging';
import { eventProducer, renamed, requireInfraEnv, testDatabaseName, testMongo, testNaming } from '@app/testing';
import { readSequence, streamLastSequence } from './caught-up';

/** The stream's end as reads wait for it, against a real nats-server: its `STREAM.INFO` requests are counted by a second connection. */
describe("the events stream's last sequence (real NATS)", () => {
  let nc: NatsConnection;
  let watcher: NatsConnection;
  let mongo: MongoClient;
  let lookUps = 0;
  const naming = testNaming();
  const stream = eventsStreamName(naming);

  beforeAll(async () => {
    nc = await connectNats(requireInfraEnv().natsUrl, 'caught-up-test');
    watcher = await connectNats(requireInfraEnv().natsUrl, 'caught-up-watcher');
    await ensureStreams(nc, naming);
    watcher.subscribe(`$JS.API.STREAM.INFO.${stream}`, { callback: () => void lookUps++ });
    await watcher.flush();
    // something in the stream, so its end is not 0
    mongo = await testMongo();
    const producer = eventProducer(mongo.db(testDatabaseName('caught_up')), 'identity', nc);
    await producer.store.ensureIndexes();
    const userId = randomUUID();
    await producer.append(`user-${userId}`, [renamed(userId, 1)]);
    await producer.stop();
  });

  afterAll(async () => {
    await nc.close();
    await watcher.close();
    await mongo.close();
  });

  const counted = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    await watcher.flush();
    const before = lookUps;
    const result = await fn();
    await nc.flush();
    await watcher.flush();
    return [result, lookUps - before];
  };

  it('one look-up per connection at a time: a caller that arrives while one is in flight shares the next one', async () => {
    const end = (await (await jetStreamManager(nc)).streams.info(stream)).state.last_seq;
    expect(end).toBeGreaterThan(0);
    const jsm = await jetStreamManager(nc);
    const [ends, asked] = await counted(() => Promise.all([streamLastSequence(jsm, naming), streamLastSequence(jsm, naming), streamLastSequence(jsm, naming)]));
    expect(ends).toEqual([end, end, end]);
    expect(asked).toBe(2);
  });

  it("readSequence: the gateway's read index, or this process's own acked publishes when further, asks nothing", async () => {
    const jsm = await jetStreamManager(nc);
    const [seqs, asked] = await counted(async () => [
      await readSequence(jsm, naming, { readIndex: 40 }),
      await readSequence(jsm, naming, { readIndex: 40 }, 52),
      await readSequence(jsm, naming, { readIndex: 40, after: [] }, 12),
    ]);
    expect(seqs).toEqual([40, 52, 40]);
    expect(asked).toBe(0);
  });

  it("readSequence: the stream's end now without a read index, or when the caller names writes of its own", async () => {
    const jsm = await jetStreamManager(nc);
    const end = (await jsm.streams.info(stream)).state.last_seq;
    const [seqs, asked] = await counted(async () => [
      await readSequence(jsm, naming, undefined),
      await readSequence(jsm, naming, { readIndex: 1, after: ['organization-x@3'] }, 0),
    ]);
    expect(seqs).toEqual([end, end]);
    expect(asked).toBe(2);
  });
});
