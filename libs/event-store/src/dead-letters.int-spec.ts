import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import type { JetStreamManager, NatsConnection } from 'nats';
import { allEventsSubject, deadLetterStreamName, deadLetterSubject, eventsStreamName, systemMeta } from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import { requireInfraEnv, testDatabaseName, testMongo, testNaming } from '@app/testing';
import { waitUntilApplied } from './caught-up';
import { createEventStore, type EventStore } from './event-store';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay';
import { replayDeadLetters, runProjection, type ProjectionOptions } from './projection-runner';

/**
 * Dead letters are an alert (one error line with the event's id, type and the reason; the metric is the
 * services' `onDeadLetter`) and can be replayed after a fix: `replayDeadLetters` re-feeds them through the
 * projection, removes those applied from the dead-letter stream, keeps those that fail again, and a second
 * replay changes nothing.
 */
describe('dead letters: alert and replay (FerretDB and NATS JetStream)', () => {
  let mongo: MongoClient;
  let db: Db;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let store: EventStore;
  let relay: OutboxRelay;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('dead-letters'));
    nc = await connectNats(requireInfraEnv().natsUrl, 'dead-letters-test');
    await ensureStreams(nc, testNaming());
    jsm = await nc.jetstreamManager();
    store = createEventStore(db, { service: 'identity', onAppended: (c) => relay.onAppended(c) });
    await store.ensureIndexes();
    relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity' });
  });
  afterAll(async () => {
    await relay.stop();
    await nc.drain();
    await mongo.close();
  });

  async function publishNames(...names: string[]): Promise<number> {
    const userId = randomUUID();
    for (const [i, name] of names.entries()) {
      const data = { userId, name, previousName: i ? names[i - 1] : 'Initial' };
      await store.append(`user-${userId}`, i, [{ type: 'user.screen-name-changed', version: 1, data }], {
        commandId: randomUUID(),
        meta: systemMeta(randomUUID()),
      });
    }
    await relay.flushStream(`user-${userId}`);
    return (await jsm.streams.info(eventsStreamName(testNaming()))).state.last_seq;
  }
  const waiting = async (name: string) =>
    (await jsm.streams.info(deadLetterStreamName(testNaming()), { subjects_filter: testNaming().subject(deadLetterSubject(name)) })).state.subjects?.[
      testNaming().subject(deadLetterSubject(name))
    ] ?? 0;

  it('dead-letters with one error line (id, type, reason; no data), then replays after the fix exactly once', async () => {
    const name = 'replayable';
    const view = db.collection<{ _id: string; name: string; sequence: number; applied: number }>('names_view');
    let fixed = false;
    /** the projection: idempotent (an upsert by event id); "Secret-ish" names cannot be applied until the fix */
    const apply: ProjectionOptions['apply'] = async (event, ctx) => {
      const data = event.data as { name: string };
      if (data.name.startsWith('Broken') && (!fixed || data.name === 'Broken forever')) throw new Error('cannot apply this name');
      await view.updateOne({ _id: event.id }, { $set: { name: data.name, sequence: ctx.sequence }, $inc: { applied: 1 } }, { upsert: true });
    };
    const errors: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    const logger = {
      warn: () => undefined,
      info: () => undefined,
      error: (fields: object, msg: string) => void errors.push({ fields: fields as Record<string, unknown>, msg }),
    };

    const last = await publishNames('Good one', 'Broken name', 'Broken forever', 'Good two');
    const running = await runProjection({
      name,
      db,
      js: nc.jetstream(),
      jsm,
      naming: testNaming(),
      filterSubjects: [allEventsSubject()],
      apply,
      maxDeliver: 2,
      retryDelayMs: 50,
      logger,
    });
    try {
      expect(await waitUntilApplied(running, last, 30_000)).toBe(true);
    } finally {
      await running.stop();
    }
    expect((await view.find().toArray()).map((d) => d.name).sort()).toEqual(['Good one', 'Good two']);
    expect(await waiting(name)).toBe(2);

    // the alert: one error line per dead letter, naming the event, never its data
    const lines = errors.filter((e) => e.msg === 'event dead-lettered');
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l.fields).toEqual({
        projection: name,
        seq: expect.any(Number),
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        eventType: 'user.screen-name-changed.v1',
        reason: 'cannot apply this name',
      });
      expect(JSON.stringify(l.fields)).not.toContain('Broken');
    }
    const brokenSeq = lines[0].fields.seq as number;

    // the fix, then the replay: the fixed one is applied once with its original sequence and leaves the dead-letter stream
    fixed = true;
    expect(await replayDeadLetters({ name, jsm, naming: testNaming(), apply })).toEqual({ replayed: 1, failed: 1 });
    const broken = await view.findOne({ name: 'Broken name' });
    expect(broken).toMatchObject({ sequence: brokenSeq, applied: 1 });
    expect(await waiting(name)).toBe(1);

    // again: nothing changes (the one still failing stays)
    expect(await replayDeadLetters({ name, jsm, naming: testNaming(), apply })).toEqual({ replayed: 0, failed: 1 });
    expect((await view.find().toArray()).map((d) => [d.name, d.applied]).sort()).toEqual([
      ['Broken name', 1],
      ['Good one', 1],
      ['Good two', 1],
    ]);
    expect(await waiting(name)).toBe(1);
    // another projection's dead letters are not touched
    expect(await replayDeadLetters({ name: 'other', jsm, naming: testNaming(), apply })).toEqual({ replayed: 0, failed: 0 });
  });
});
