import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { JSONCodec, type NatsConnection } from 'nats';
import {
  allEventsSubject,
  deadLetterStreamName,
  deadLetterSubject,
  eventsStreamName,
  isEvent,
  systemMeta,
  UserScreenNameChanged,
  type DomainEvent,
} from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import { requireInfraEnv, testDatabaseName, testMongo, testNaming } from '@app/testing';
import { CHECKPOINTS } from './commit';
import { createEventStore, type EventStore } from './event-store';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay';
import { waitUntilApplied } from './caught-up';
import { runProjection, type ProjectionOptions, type RunningProjection } from './projection-runner';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** fails the test unless `p` applies the stream up to `seq` within `timeoutMs` */
async function reach(p: RunningProjection, seq: number, timeoutMs = 10_000): Promise<void> {
  if (!(await waitUntilApplied(p, seq, timeoutMs))) throw new Error(`the projection did not reach ${seq} within ${timeoutMs} ms (at ${p.position()})`);
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe('projection runner on FerretDB and NATS JetStream', () => {
  let mongo: MongoClient;
  let db: Db;
  let nc: NatsConnection;
  let store: EventStore;
  let relay: OutboxRelay;
  const running: RunningProjection[] = [];
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('projections'));
    nc = await connectNats(requireInfraEnv().natsUrl, 'projection-test');
    await ensureStreams(nc, testNaming());
    store = createEventStore(db, { service: 'identity', onAppended: (c) => relay.onAppended(c) });
    await store.ensureIndexes();
    relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity' });
  });
  afterEach(async () => {
    for (const p of running.splice(0)) await p.stop();
    for (const c of connections.splice(0)) await c.close();
  });
  afterAll(async () => {
    await nc.drain();
    await mongo.close();
  });

  /** Appends `names.length` events to a new user stream through the store and its relay; returns the last stream sequence. */
  async function publish(...names: string[]): Promise<number> {
    const userId = randomUUID();
    for (const [i, name] of names.entries()) {
      const data = { userId, name, previousName: i ? names[i - 1] : 'Initial' };
      await store.append(`user-${userId}`, i, [{ type: 'user.screen-name-changed', version: 1, data }], {
        commandId: randomUUID(),
        meta: systemMeta(randomUUID()),
      });
    }
    await relay.flushStream(`user-${userId}`);
    return (await (await nc.jetstreamManager()).streams.info(eventsStreamName(testNaming()))).state.last_seq;
  }
  const publishMany = (n: number) => publish(...range(1, n).map((i) => `Name ${i}`));

  /** Starts a projection over every event of this file; `conn` is the NATS connection it uses. */
  async function start(name: string, apply: ProjectionOptions['apply'], extra: Partial<ProjectionOptions> = {}, conn = nc): Promise<RunningProjection> {
    const p = await runProjection({
      name,
      db,
      js: conn.jetstream(),
      jsm: await conn.jetstreamManager(),
      naming: testNaming(),
      filterSubjects: [allEventsSubject()],
      apply,
      ...extra,
    });
    running.push(p);
    return p;
  }

  const checkpoint = async (name: string) => (await db.collection<{ _id: string; sequence: number }>(CHECKPOINTS).findOne({ _id: name }))?.sequence;
  const consumerInfo = async (name: string) => (await nc.jetstreamManager()).consumers.info(eventsStreamName(testNaming()), name);

  it('applies every event once in order, checkpoints it, and a real redelivery changes nothing', async () => {
    const last = await publishMany(6);
    const applied: number[] = [];
    let slowOnce = true;
    // the process stalls on the first event for longer than the ack wait (busy: no timer runs, so nothing says
    // "still working"), so JetStream really delivers it (and the ones after it) again
    await start(
      'redelivered',
      async (_e, ctx) => {
        if (slowOnce) {
          slowOnce = false;
          const until = Date.now() + 2500;
          while (Date.now() < until);
        }
        applied.push(ctx.sequence);
      },
      { ackWaitMs: 1000 },
    );
    await until('everything is acked', async () => {
      const info = await consumerInfo('redelivered');
      return info.ack_floor.stream_seq === last && info.num_ack_pending === 0;
    });
    expect((await consumerInfo('redelivered')).delivered.consumer_seq).toBeGreaterThan(last); // some deliveries were repeats
    expect(applied).toEqual(range(1, last));
    expect(await checkpoint('redelivered')).toBe(last);
    await running.pop()!.stop();

    // the durable consumer deleted and created again delivers everything once more: the checkpoint keeps it out
    await (await nc.jetstreamManager()).consumers.delete(eventsStreamName(testNaming()), 'redelivered');
    await start('redelivered', async (_e, ctx) => void applied.push(ctx.sequence));
    await until('the new consumer delivered everything', async () => (await consumerInfo('redelivered')).ack_floor.stream_seq === last);
    expect(applied).toEqual(range(1, last));
  });

  it('an apply slower than the ack wait is not delivered again: the runner tells JetStream it is still working', async () => {
    const last = await publishMany(3);
    const applied: number[] = [];
    await start(
      'slow',
      async (_e, ctx) => {
        if (!applied.length) await sleep(2500);
        applied.push(ctx.sequence);
      },
      { ackWaitMs: 1000 },
    );
    await until('everything is acked', async () => (await consumerInfo('slow')).ack_floor.stream_seq === last);
    const info = await consumerInfo('slow');
    expect([info.delivered.consumer_seq, info.num_redelivered]).toEqual([last, 0]);
    expect(applied).toEqual(range(1, last));
  });

  it('sends a poison event to the dead-letter subject after maxDeliver tries, and the events after it still flow', async () => {
    await publishMany(2);
    const poisonSeq = await publish('Poison');
    const last = await publishMany(3);
    const applied: number[] = [];
    const tries: number[] = [];
    const deadLettered: unknown[] = [];
    const p = await start(
      'poisoned',
      async (e, ctx) => {
        if (isEvent(e, UserScreenNameChanged) && e.data.name === 'Poison') {
          tries.push(ctx.deliveries);
          throw new Error('cannot apply this one');
        }
        applied.push(ctx.sequence);
      },
      { maxDeliver: 3, retryDelayMs: 50, onDeadLetter: (event) => deadLettered.push(event) },
    );
    await reach(p, last);
    expect(tries).toEqual([1, 2, 3]);
    expect(applied).toEqual(range(1, last).filter((s) => s !== poisonSeq));
    expect(deadLettered).toEqual([expect.objectContaining({ data: expect.objectContaining({ name: 'Poison' }) })]);

    const dlq = await nc.jetstream().consumers.get(deadLetterStreamName(testNaming()));
    const m = await dlq.next({ expires: 2000 });
    expect(m?.subject).toBe(testNaming().subject(deadLetterSubject('poisoned')));
    expect(m?.headers?.get('Original-Sequence')).toBe(String(poisonSeq));
    expect(m?.headers?.get('Error')).toContain('cannot apply this one');
    expect(JSONCodec<DomainEvent>().decode(m!.data).data.name).toBe('Poison');
    expect((await (await nc.jetstreamManager()).streams.info(deadLetterStreamName(testNaming()))).state.messages).toBe(1);

    const later = await publishMany(2);
    await reach(p, later);
    expect(applied.slice(-2)).toEqual([later - 1, later]);
    expect(await checkpoint('poisoned')).toBe(later);
  });

  it('after a crash or a stop it continues where it stopped: no event applied twice, none missed, in order', async () => {
    const applied: number[] = [];
    const record: ProjectionOptions['apply'] = async (_e, ctx) => void applied.push(ctx.sequence);
    const ackWaitMs = 1500;
    const first = await publishMany(30);

    // instance A crashes in the middle: its connection dies and it never finishes the event it was applying
    const connA = await connectNats(requireInfraEnv().natsUrl, 'projection-a');
    let crashed = false;
    const a = await start(
      'restarted',
      async (e, ctx) => {
        await sleep(5);
        if (crashed) return new Promise<void>(() => undefined);
        applied.push(ctx.sequence);
      },
      { ackWaitMs },
      connA,
    );
    running.pop();
    await until('A applied some events', () => applied.length >= 10);
    crashed = true;
    await connA.close();
    // only ends the client's heartbeat timer of the dead connection; A's apply never returns
    void a.stop().catch(() => undefined);
    await sleep(300); // A's last checkpoint write lands
    expect(applied.length).toBeLessThan(first);

    const afterCrash = await publishMany(10);
    const connB = await connectNats(requireInfraEnv().natsUrl, 'projection-b');
    connections.push(connB);
    const b = await start('restarted', record, { ackWaitMs }, connB);
    await reach(b, afterCrash, 15_000);
    expect(applied).toEqual(range(1, afterCrash));

    // a stop while events are still coming in, then a new start
    const more = publishMany(20);
    await sleep(20);
    await running.pop()!.stop();
    const afterStop = await more;
    const c = await start('restarted', record, { ackWaitMs });
    await reach(c, afterStop, 15_000);
    expect(applied).toEqual(range(1, afterStop));
    expect(await checkpoint('restarted')).toBe(afterStop);
  });
});
