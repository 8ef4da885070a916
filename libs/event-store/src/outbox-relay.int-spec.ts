import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import { JSONCodec, type JetStreamClient, type NatsConnection } from 'nats';
import { eventsStreamName, evtSubject, systemMeta, type DomainEvent } from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import { findBinary, freePort, startNatsServer, testDatabaseName, testMongo, requireInfraEnv, type LocalServer } from '@app/testing';
import { createEventStore, type EventStore } from './event-store';
import { createOutboxRelay, RELAY_BATCH_EVENTS, type OutboxRelay } from './outbox-relay';

/** A documented event of about 300 bytes, so the file's contract check accepts what these tests publish. */
const renamed = (userId: string, n: number) => ({
  type: 'user.screen-name-changed',
  version: 1,
  data: { userId, name: `Name ${n}`, previousName: `Name ${n - 1}` },
});

/** Appends `commits` commits of `perCommit` events to a new user stream, one after another. */
async function appendStream(store: EventStore, commits: number, perCommit: number): Promise<DomainEvent[]> {
  const userId = randomUUID();
  const events: DomainEvent[] = [];
  for (let c = 0; c < commits; c++) {
    const batch = Array.from({ length: perCommit }, (_, i) => renamed(userId, events.length + i + 1));
    const r = await store.append(`user-${userId}`, events.length, batch, { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    events.push(...r.commit.events);
  }
  return events;
}

interface Published {
  seq: number;
  subject: string;
  msgId: string | undefined;
  event: DomainEvent;
}

/** Everything in the events stream, in stream order, read by a fresh consumer. */
async function readEventsStream(nc: NatsConnection): Promise<Published[]> {
  const last = (await (await nc.jetstreamManager()).streams.info(eventsStreamName())).state.last_seq;
  const consumer = await nc.jetstream().consumers.get(eventsStreamName());
  const codec = JSONCodec<DomainEvent>();
  const out: Published[] = [];
  while (out.length < last) {
    const m = await consumer.next({ expires: 2000 });
    if (!m) break;
    out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), event: codec.decode(m.data) });
    if (m.seq >= last) break;
  }
  return out;
}

/** Each appended event is in the stream exactly once, and every stream's events are in version order. */
function expectEachOnceInStreamOrder(published: Published[], appended: DomainEvent[]): void {
  const streams = new Set(appended.map((e) => e.streamId));
  const mine = published.filter((p) => streams.has(p.event.streamId));
  expect(mine.map((p) => p.event.id).sort()).toEqual(appended.map((e) => e.id).sort());
  for (const streamId of streams) {
    const versions = mine.filter((p) => p.event.streamId === streamId).map((p) => p.event.streamVersion);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  }
}

/** The client's JetStream with `publish` observed: how many publishes were awaiting their ack at most, and a hook per call. */
function observedJetStream(js: JetStreamClient, onPublish: (call: number) => void = () => undefined) {
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const observed: JetStreamClient = Object.create(js);
  observed.publish = (...args: Parameters<JetStreamClient['publish']>) => {
    onPublish(++calls);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    return js.publish(...args).finally(() => inFlight--);
  };
  return { js: observed, maxInFlight: () => maxInFlight };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('outbox relay on FerretDB and NATS JetStream', () => {
  let mongo: MongoClient;
  let nc: NatsConnection;

  beforeAll(async () => {
    mongo = await testMongo();
    nc = await connectNats(requireInfraEnv().natsUrl, 'outbox-relay-test');
    await ensureStreams(nc);
  });
  afterAll(async () => {
    await nc.drain();
    await mongo.close();
  });

  /** A store in its own database whose appends are published by `relays` right away. */
  async function storeWith(dbName: string, relays: () => OutboxRelay[]): Promise<{ db: Db; store: EventStore }> {
    const db = mongo.db(testDatabaseName(dbName));
    const store = createEventStore(db, { service: 'identity', onAppended: (c) => relays().forEach((r) => r.onAppended(c)) });
    await store.ensureIndexes();
    return { db, store };
  }

  it('publishes right after the append, with Nats-Msg-Id = event id, in stream order, and marks the commit published', async () => {
    let relay: OutboxRelay | undefined;
    const { store } = await storeWith('relay_now', () => (relay ? [relay] : []));
    relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), service: 'identity' });

    const appended = (await Promise.all([appendStream(store, 5, 1), appendStream(store, 3, 3)])).flat();
    for (const streamId of new Set(appended.map((e) => e.streamId))) await relay.flushStream(streamId);
    await relay.flush(); // the published flags follow the acks within a moment

    const published = await readEventsStream(nc);
    expectEachOnceInStreamOrder(published, appended);
    for (const p of published.filter((x) => appended.some((e) => e.id === x.event.id))) {
      expect(p.msgId).toBe(p.event.id);
      expect(p.subject).toBe(evtSubject('identity', p.event.type, p.event.version));
    }
    expect(await store.commits.countDocuments({ published: false })).toBe(0);
    expect(await store.commits.countDocuments({ published: true })).toBe(8);
  });

  it('after a crash between append and publish, one sweep publishes every commit and a second sweep adds nothing', async () => {
    // the process "crashed" after its appends: no relay saw them
    const { store } = await storeWith('relay_crash', () => []);
    const appended = (await Promise.all([appendStream(store, 4, 2), appendStream(store, 6, 1), appendStream(store, 1, 5)])).flat();
    expect(await store.commits.countDocuments({ published: false })).toBe(11);
    expect((await readEventsStream(nc)).filter((p) => appended.some((e) => e.id === p.event.id))).toHaveLength(0);

    const relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), service: 'identity', sweepGraceMs: 0 });
    expect(await relay.sweep()).toBe(3);
    expect(await store.commits.countDocuments({ published: false })).toBe(0);
    const first = await readEventsStream(nc);
    expectEachOnceInStreamOrder(first, appended);

    // nothing is unpublished any more: the second sweep has nothing to do
    expect(await relay.sweep()).toBe(0);
    // a crash after the publish but before the commit was marked: JetStream drops the second copy
    await store.commits.updateMany({}, { $set: { published: false } });
    expect(await relay.sweep()).toBe(3);
    const second = await readEventsStream(nc);
    expect(second).toHaveLength(first.length);
    expectEachOnceInStreamOrder(second, appended);
  });

  it('a stream that cannot be published does not hold up the sweep of the others', async () => {
    const { store } = await storeWith('relay_stuck', () => []);
    // bigger than NATS max_payload (1 MB), and first in streamId order
    const userId = randomUUID();
    const huge = { ...renamed(userId, 1), data: { userId, name: 'x'.repeat(2_000_000), previousName: '' } };
    await store.append(`user-0-${userId}`, 0, [huge], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    const appended = (await Promise.all([appendStream(store, 2, 1), appendStream(store, 2, 1)])).flat();

    const relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), service: 'identity', sweepGraceMs: 0 });
    await expect(relay.sweep()).rejects.toThrow(/1 of 3 streams not published: user-0-/);
    expect(await store.commits.countDocuments({ published: false })).toBe(1);
    expectEachOnceInStreamOrder(await readEventsStream(nc), appended);
  });

  it('sends a stream\'s pending events in batches of up to RELAY_BATCH_EVENTS with their acks awaited together, and marks the commits published in one write', async () => {
    const monitored = await new MongoClient(requireInfraEnv().mongoUrl, { monitorCommands: true }).connect();
    try {
      const updates: CommandStartedEvent[] = [];
      monitored.on('commandStarted', (e) => e.commandName === 'update' && updates.push(e));
      const store = createEventStore(monitored.db(testDatabaseName('relay_batch')), { service: 'identity' });
      await store.ensureIndexes();
      // 130 commits of 2 events in one stream, none published yet (a crash, or NATS was down)
      const appended = await appendStream(store, 130, 2);
      const observed = observedJetStream(nc.jetstream());
      const relay = createOutboxRelay({ commits: store.commits, js: observed.js, service: 'identity', sweepGraceMs: 0 });

      expect(await relay.sweep()).toBe(1);

      expect(observed.maxInFlight()).toBe(RELAY_BATCH_EVENTS);
      // the two batches' commits are marked in one write (at most one per batch)
      expect(updates.length).toBeGreaterThanOrEqual(1);
      expect(updates.length).toBeLessThanOrEqual(2);
      expect(await store.commits.countDocuments({ published: false })).toBe(0);
      expectEachOnceInStreamOrder(await readEventsStream(nc), appended);
    } finally {
      await monitored.close();
    }
  });

  it('an event NATS refuses stops its stream there: nothing after it is published before it', async () => {
    const { store } = await storeWith('relay_too_big', () => []);
    const before = await appendStream(store, 2, 3);
    const userId = before[0].data.userId as string;
    const streamId = before[0].streamId;
    const huge = { ...renamed(userId, 7), data: { userId, name: 'x'.repeat(2_000_000), previousName: '' } };
    await store.append(streamId, 6, [huge], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    for (let v = 7; v < 10; v++)
      await store.append(streamId, v, [renamed(userId, v + 1)], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });

    const relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), service: 'identity', sweepGraceMs: 0 });
    const failure = await relay.sweep().then(
      () => 'published everything',
      (err: Error) => err.message,
    );

    const published = (await readEventsStream(nc)).filter((p) => p.event.streamId === streamId);
    expect(published.map((p) => p.event.streamVersion)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await store.commits.countDocuments({ published: false })).toBe(4);
    expect(failure).toMatch(/version 7\) is \d+ bytes, more than NATS accepts/);
  });

  it('two relays publishing the same streams at once still give each event once, in stream order', async () => {
    const relays: OutboxRelay[] = [];
    const { store } = await storeWith('relay_two', () => relays);
    const other = await connectNats(requireInfraEnv().natsUrl, 'outbox-relay-test-2');
    try {
      for (const conn of [nc, other])
        relays.push(createOutboxRelay({ commits: store.commits, js: conn.jetstream(), service: 'identity', sweepGraceMs: 0 }));
      const appended = (await Promise.all(Array.from({ length: 6 }, (_, i) => appendStream(store, 15, 1 + (i % 3))))).flat();
      // both also sweep while their publishes after the appends are still running
      await Promise.all(relays.map((r) => r.sweep()));
      for (const r of relays) await r.flush();

      expect(await store.commits.countDocuments({ published: false })).toBe(0);
      expectEachOnceInStreamOrder(await readEventsStream(nc), appended);
    } finally {
      await other.drain();
    }
  });

  describe('while NATS is down', () => {
    const bin = findBinary('nats-server');
    let dataDir: string;
    let port: number;
    let server: LocalServer | undefined;
    let ownNc: NatsConnection | undefined;
    let relay: OutboxRelay | undefined;

    beforeAll(async () => {
      if (!bin) throw new Error('this test needs a nats-server binary (PATH or .tools/bin) to stop and restart');
      dataDir = mkdtempSync(join(tmpdir(), 'nats-restart-'));
      port = await freePort();
      server = await startNatsServer(bin, dataDir, port);
    });
    afterAll(async () => {
      await relay?.stop();
      await ownNc?.close();
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('publishes every event exactly once and in stream order when JetStream stops in the middle of a batch and comes back', async () => {
      const conn = await connectNats(server!.url, 'outbox-relay-mid-batch-test');
      try {
        await ensureStreams(conn);
        // nothing is published at append time (as after a crash): the relay below finds it all at once
        const { store } = await storeWith('relay_mid_batch', () => []);
        // 3 streams of 600 events (60 commits of 10): three batches each
        const appended = (await Promise.all(Array.from({ length: 3 }, () => appendStream(store, 60, 10)))).flat();
        const mine = (published: Published[]) => published.filter((p) => appended.some((e) => e.id === p.event.id));

        // the server is stopped while the relay sends its batches: in the middle of the second one it starts
        let stopped: Promise<void> | undefined;
        const observed = observedJetStream(conn.jetstream(), (call) => {
          if (call === RELAY_BATCH_EVENTS + 50) stopped = server!.stop();
        });
        const relay = createOutboxRelay({ commits: store.commits, js: observed.js, service: 'identity', sweepGraceMs: 0 });
        const firstSweep = relay.sweep().then(
          () => 'published everything',
          (err: Error) => err.message,
        );
        await until('the server is stopped', async () => stopped !== undefined);
        await stopped;
        server = await startNatsServer(bin!, dataDir, port);

        // back before the relay's publishes to the stopped server time out: JetStream has part of the events
        let stored: Published[] = [];
        await until('JetStream answers again', async () => {
          const all = await readEventsStream(conn).catch(() => undefined);
          if (all) stored = mine(all);
          return all !== undefined;
        });
        expect(stored.length).toBeGreaterThan(0);
        expect(stored.length).toBeLessThan(appended.length);

        // the next sweeps send the rest (and again what JetStream has, which it drops)
        await until(
          'every commit is published',
          async () => {
            await relay.sweep().catch(() => undefined);
            return (await store.commits.countDocuments({ published: false })) === 0;
          },
          60_000,
        );
        expectEachOnceInStreamOrder(await readEventsStream(conn), appended);
        // (the first sweep could not publish everything)
        expect(await firstSweep).toMatch(/not published/);
      } finally {
        await conn.close();
      }
    }, 120_000);

    it('appends still succeed, and after NATS is back the sweep delivers every event exactly once, in stream order', async () => {
      ownNc = await connectNats(server!.url, 'outbox-relay-restart-test');
      await ensureStreams(ownNc);
      let r: OutboxRelay | undefined;
      const { store } = await storeWith('relay_restart', () => (r ? [r] : []));
      relay = r = createOutboxRelay({ commits: store.commits, js: ownNc.jetstream(), service: 'identity', sweepIntervalMs: 300, sweepGraceMs: 200 });
      relay.start();

      // a few events before the outage
      const before = (await Promise.all([appendStream(store, 2, 1), appendStream(store, 2, 1)])).flat();
      for (const e of before) await relay.flushStream(e.streamId);

      await server!.stop();
      // 200 events over 10 streams while NATS is down: the appends succeed, the publishes fail
      const during = (await Promise.all(Array.from({ length: 10 }, () => appendStream(store, 10, 2)))).flat();
      expect(during).toHaveLength(200);
      expect(await store.commits.countDocuments({ published: false })).toBe(100);

      server = await startNatsServer(bin!, dataDir, port);
      await until('every commit is published', async () => (await store.commits.countDocuments({ published: false })) === 0);

      expectEachOnceInStreamOrder(await readEventsStream(ownNc), [...before, ...during]);
    });
  });
});
