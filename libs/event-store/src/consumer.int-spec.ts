import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { JSONCodec, type JetStreamManager, type NatsConnection } from 'nats';
import { deadLetterStreamName, deadLetterSubject, eventMetadata, eventsStreamName, evtSubject, systemMeta } from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import { eventProducer, requireInfraEnv, testDatabaseName, testMongo, testNaming } from '@app/testing';
import { waitUntilApplied } from './caught-up';
import { consumeEvents, type ConsumeOptions, type ConsumerLag, type ConsumerMetrics, type EventConsumer, type Rejected } from './consumer';
import { mongoCheckpoint } from './projection-runner';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const nameOf = (e: { event?: { data: unknown } }) => (e.event?.data as { name: string }).name;

/** The shared consumer in `ordered` mode (the durable mode: projection-runner.int-spec.ts, dead-letters.int-spec.ts). */
describe('consumeEvents: ordered, batches, dead letters, checkpoint, bounded stop (FerretDB and NATS JetStream)', () => {
  let mongo: MongoClient;
  let db: Db;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let producer: ReturnType<typeof eventProducer>;
  const running: EventConsumer[] = [];

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('consumer'));
    nc = await connectNats(requireInfraEnv().natsUrl, 'consumer-test');
    await ensureStreams(nc, testNaming());
    jsm = await nc.jetstreamManager();
    producer = eventProducer(db, 'identity', nc);
    await producer.store.ensureIndexes();
  });
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop(1000);
  });
  afterAll(async () => {
    await producer.stop();
    await nc.drain();
    await mongo.close();
  });

  /** One user renamed through `names`, each its own commit; returns the stream sequences of the events. */
  async function publish(...names: string[]): Promise<number[]> {
    const userId = randomUUID();
    for (const [i, name] of names.entries())
      await producer.append(`user-${userId}`, [
        { type: 'user.screen-name-changed', version: 1, data: { userId, name, previousName: i ? names[i - 1] : 'Initial' } },
      ]);
    const last = (await jsm.streams.info(eventsStreamName(testNaming()))).state.last_seq;
    return range(last - names.length + 1, last);
  }

  async function consume(options: Partial<ConsumeOptions> & Pick<ConsumeOptions, 'name' | 'apply'>): Promise<EventConsumer> {
    const c = await consumeEvents({ js: nc.jetstream(), jsm, naming: testNaming(), mode: 'ordered', ...options });
    running.push(c);
    return c;
  }
  const deadLetters = async (name: string) =>
    (await jsm.streams.info(deadLetterStreamName(testNaming()), { subjects_filter: testNaming().subject(deadLetterSubject(name)) })).state.subjects?.[
      testNaming().subject(deadLetterSubject(name))
    ] ?? 0;

  it('hands out batches of consecutive events in stream order from the start position, reports its position, and stops on abort', async () => {
    const seqs = await publish(...range(1, 25).map((i) => `Name ${i}`));
    const batches: number[][] = [];
    const abort = new AbortController();
    const c = await consume({
      name: 'batches',
      start: seqs[0] - 1,
      maxBatch: 10,
      signal: abort.signal,
      apply: (events) => void batches.push(events.map((e) => e.sequence)),
    });
    expect(await waitUntilApplied(c, seqs[24], 10_000)).toBe(true);
    expect(batches.flat()).toEqual(seqs);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    expect([c.position(), c.pending()]).toEqual([seqs[24], 0]);
    abort.abort();
    await c.done;
    await publish('After the abort');
    await sleep(200);
    expect(batches.flat()).toEqual(seqs);
  });

  it('dead-letters a rejected event at once, isolates an event that keeps failing in a batch and dead-letters it after maxDeliver tries; the rest is applied', async () => {
    const seqs = await publish('Good 1', 'Rejected', 'Good 2', 'Poison', 'Good 3');
    const [, rejectedSeq, , poisonSeq] = seqs;
    const applied = new Set<number>();
    const alone: number[] = [];
    const letters: string[] = [];
    const apply: ConsumeOptions['apply'] = (events) => {
      const rejected: Rejected[] = [];
      if (events.length === 1 && nameOf(events[0]) === 'Poison') alone.push(events[0].deliveries);
      for (const e of events) {
        if (nameOf(e) === 'Poison') throw new Error('cannot apply this one');
        if (nameOf(e) === 'Rejected') rejected.push({ sequence: e.sequence, reason: 'no mapping' });
        else applied.add(e.sequence);
      }
      return rejected;
    };
    const c = await consume({
      name: 'poisoned-batch',
      start: seqs[0] - 1,
      maxBatch: 50,
      maxDeliver: 3,
      retryDelayMs: 10,
      apply,
      onDeadLetter: (e, reason) => void letters.push(`${(e?.data as { name: string }).name}: ${reason}`),
    });
    expect(await waitUntilApplied(c, seqs[4], 15_000)).toBe(true);
    expect([...applied].sort((a, b) => a - b)).toEqual(seqs.filter((s) => s !== rejectedSeq && s !== poisonSeq));
    expect(alone).toEqual([1, 2, 3]);
    expect(letters.sort()).toEqual(['Poison: cannot apply this one', 'Rejected: no mapping']);
    expect(await deadLetters('poisoned-batch')).toBe(2);
    const dlq = await (
      await nc.jetstream().consumers.get(deadLetterStreamName(testNaming()), { filterSubjects: testNaming().subject(deadLetterSubject('poisoned-batch')) })
    ).next({ expires: 2000 });
    expect([dlq?.headers?.get('Original-Sequence'), dlq?.headers?.get('Error')]).toEqual([String(rejectedSeq), 'no mapping']);

    // a view rebuilt from the stream at every start counts and logs its dead letters without publishing them
    const counted: string[] = [];
    const view = await consume({
      name: 'counted-only',
      start: seqs[0] - 1,
      maxBatch: 50,
      maxDeliver: 1,
      publishDeadLetters: false,
      apply,
      onDeadLetter: (_e, r) => void counted.push(r),
    });
    expect(await waitUntilApplied(view, seqs[4], 15_000)).toBe(true);
    expect([counted.length, await deadLetters('counted-only')]).toEqual([2, 0]);
  });

  it('checks every event against the catalogue once, before apply: one that breaks its schema is dead-lettered and never applied', async () => {
    const [before] = await publish('Before');
    // published straight to the stream, past the event store's check on append
    const userId = randomUUID();
    const broken = {
      id: randomUUID(),
      type: 'user.screen-name-changed',
      version: 1,
      streamId: `user-${userId}`,
      streamVersion: 1,
      service: 'identity',
      occurredAt: new Date().toISOString(),
      data: { userId, name: 42, previousName: 'Initial' },
      metadata: eventMetadata(systemMeta('broken')),
    };
    const brokenSeq = (await nc.jetstream().publish(testNaming().subject(evtSubject('identity', broken.type, 1)), JSONCodec().encode(broken))).seq;
    const [after] = await publish('After');
    const applied: number[] = [];
    const letters: string[] = [];
    try {
      const c = await consume({
        name: 'contract-checked',
        start: before - 1,
        apply: (events) => void applied.push(...events.filter((e) => e.event).map((e) => e.sequence)),
        onDeadLetter: (e, reason) => void letters.push(`${e?.id}: ${reason}`),
      });
      expect(await waitUntilApplied(c, after, 10_000)).toBe(true);
      expect(applied).toEqual([before, after]);
      expect(applied).not.toContain(brokenSeq);
      expect(letters).toEqual([`${broken.id}: user.screen-name-changed.v1 does not match the event catalogue: data/name must be string`]);
      expect(await deadLetters('contract-checked')).toBe(1);
    } finally {
      await jsm.streams.deleteMessage(eventsStreamName(testNaming()), brokenSeq); // the file's contract check after it is about the system's events
    }
  });

  it('resumes after its checkpoint; stop waits at most graceMs for a hanging apply, which the next consumer applies again', async () => {
    const seqs = await publish('One', 'Two', 'Hangs', 'Four');
    const checkpoint = mongoCheckpoint(db, 'resumable');
    await checkpoint.write(seqs[0] - 1);
    const applied: number[] = [];
    let release: (() => void) | undefined;
    const a = await consume({
      name: 'resumable',
      checkpoint,
      apply: async ([e]) => {
        if (nameOf(e) === 'Hangs') await new Promise<void>((r) => (release = r));
        applied.push(e.sequence);
      },
    });
    expect(await waitUntilApplied(a, seqs[1], 10_000)).toBe(true);
    await sleep(100);
    const started = Date.now();
    expect(await a.stop(300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await checkpoint.read()).toBe(seqs[1]);

    const b = await consume({ name: 'resumable', checkpoint, apply: async ([e]) => void applied.push(e.sequence) });
    expect(await waitUntilApplied(b, seqs[3], 10_000)).toBe(true);
    expect(applied).toEqual(seqs);
    release?.(); // the first consumer's apply ends late: it changes nothing that was not already there
    await a.done;
    expect(await checkpoint.read()).toBe(seqs[3]);
  });

  it('pending() comes back to 0 when the events its last delivery announced never come: the server counts what is left', async () => {
    const seqs = await publish('First', 'Deleted 1', 'Deleted 2');
    let release: (() => void) | undefined;
    const applied: number[] = [];
    // durable: one event at a time, so 'First' is delivered (announcing two more) while the others wait
    const c = await consume({
      name: 'announced',
      mode: 'durable',
      checkpoint: mongoCheckpoint(db, 'announced'),
      start: seqs[0] - 1,
      apply: async (events) => {
        applied.push(...events.map((e) => e.sequence));
        if (events.some((e) => e.sequence === seqs[0])) await new Promise<void>((r) => (release = r));
      },
    });
    for (let i = 0; i < 200 && !release; i++) await sleep(50);
    expect(c.pending()).toBe(2);
    for (const seq of seqs.slice(1)) await jsm.streams.deleteMessage(eventsStreamName(testNaming()), seq);
    release!();
    expect(await waitUntilApplied(c, seqs[0], 10_000)).toBe(true);
    for (let i = 0; i < 100 && c.pending() !== 0; i++) await sleep(50);
    expect(c.pending()).toBe(0);
    expect(applied).toEqual([seqs[0]]);
  });

  it('reports its lag to the metrics sink while it runs: events not applied yet, the age of the oldest, the sequence applied', async () => {
    const seqs = await publish('First', 'Slow', 'Third');
    let release: (() => void) | undefined;
    const watched = new Map<string, () => ConsumerLag>();
    let unwatched = 0;
    const metrics: ConsumerMetrics = {
      watch(name, lag) {
        watched.set(name, lag);
        return () => void unwatched++;
      },
    };
    const c = await consume({
      name: 'lagging',
      start: seqs[0] - 1,
      metrics,
      apply: async ([e]) => {
        if (nameOf(e) === 'Slow') await new Promise<void>((r) => (release = r));
      },
    });
    expect([...watched.keys()]).toEqual(['lagging']);
    expect(await waitUntilApplied(c, seqs[0], 10_000)).toBe(true);
    await sleep(300);
    const behind = watched.get('lagging')!();
    expect(behind.applied).toBe(seqs[0]);
    expect(behind.events).toBe(2); // 'Slow' being applied, 'Third' waiting
    expect(behind.seconds).toBeGreaterThanOrEqual(0.25);
    release?.();
    expect(await waitUntilApplied(c, seqs[2], 10_000)).toBe(true);
    expect(watched.get('lagging')!()).toEqual({ applied: seqs[2], events: 0, seconds: 0 });
    await c.stop(1000);
    expect(unwatched).toBe(1);
  });
});
