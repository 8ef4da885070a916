import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import { evtSubject, systemMeta } from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import {
  appendStream,
  expectEachOnceInStreamOrder,
  findBinary,
  freePort,
  observedPublish,
  readEventsStream,
  renamed,
  requireInfraEnv,
  startNatsServer,
  testDatabaseName,
  testMongo,
  until,
  type LocalServer,
  type Published,
  testNaming,
} from '@app/testing';
import { COMMITS, OUTBOX_POSITIONS, OUTBOX_SWEEP, OUTBOX_WRITERS, type OutboxWriter } from './commit';
import { createEventStore, type EventStore } from './event-store';
import { createOutboxRelay, RELAY_BATCH_EVENTS, unpublishedCommits, type OutboxRelay } from './outbox-relay';

describe('outbox relay on FerretDB and NATS JetStream', () => {
  let mongo: MongoClient;
  let nc: NatsConnection;

  beforeAll(async () => {
    mongo = await testMongo();
    nc = await connectNats(requireInfraEnv().natsUrl, 'outbox-relay-test');
    await ensureStreams(nc, testNaming());
  });
  afterAll(async () => {
    await nc.drain();
    await mongo.close();
  });

  /**
   * A store in its own database whose appends are published by `relays` right away. It stores what it is
   * given (`validate: false`): some tests need an event bigger than NATS accepts, which the catalogue refuses.
   * `client`: one that monitors commands, for tests that count the relay's reads and writes.
   */
  async function storeWith(dbName: string, relays: () => OutboxRelay[], client: MongoClient = mongo): Promise<{ db: Db; store: EventStore }> {
    const db = client.db(testDatabaseName(dbName));
    const store = createEventStore(db, { service: 'identity', validate: false, onAppended: (c) => relays().forEach((r) => r.onAppended(c)) });
    await store.ensureIndexes();
    return { db, store };
  }

  it("publishes right after the append, with Nats-Msg-Id = event id, in stream order, and stores each stream's position", async () => {
    let relay: OutboxRelay | undefined;
    const { store } = await storeWith('relay_now', () => (relay ? [relay] : []));
    relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity' });

    const appended = (await Promise.all([appendStream(store, 5, 1), appendStream(store, 3, 3)])).flat();
    for (const streamId of new Set(appended.map((e) => e.streamId))) await relay.flushStream(streamId);
    await relay.flush(); // the positions follow the acks within a moment

    const published = await readEventsStream(nc);
    expectEachOnceInStreamOrder(published, appended);
    for (const p of published.filter((x) => appended.some((e) => e.id === x.event.id))) {
      expect(p.msgId).toBe(p.event.id);
      expect(p.subject).toBe(testNaming().subject(evtSubject('identity', p.event.type, p.event.version)));
    }
    expect(await unpublishedCommits(store.commits)).toBe(0);
    expect(relay.backlog()).toEqual({ commits: 0, oldestCommittedAt: undefined });
    // what a read that must show these appends waits for (membership's people queries)
    expect(relay.lastAckedSequence()).toBe(Math.max(...published.filter((x) => appended.some((e) => e.id === x.event.id)).map((x) => x.seq)));
    const positions = await store.commits.db.collection(OUTBOX_POSITIONS).find().sort({ version: 1 }).toArray();
    expect(positions.map((p) => p.version)).toEqual([5, 9]);
    // the relay never updates a commit
    expect(await store.commits.countDocuments({ published: { $exists: true } })).toBe(0);
  });

  it('after a crash between append and publish, one sweep publishes every commit and a second sweep adds nothing', async () => {
    // the process "crashed" after its appends: no relay saw them
    const { store } = await storeWith('relay_crash', () => []);
    const appended = (await Promise.all([appendStream(store, 4, 2), appendStream(store, 6, 1), appendStream(store, 1, 5)])).flat();
    expect(await unpublishedCommits(store.commits)).toBe(11);
    expect((await readEventsStream(nc)).filter((p) => appended.some((e) => e.id === p.event.id))).toHaveLength(0);

    const relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity', sweepGraceMs: 0 });
    expect(await relay.sweep()).toBe(3);
    expect(await unpublishedCommits(store.commits)).toBe(0);
    const first = await readEventsStream(nc);
    expectEachOnceInStreamOrder(first, appended);

    // nothing is unpublished any more: the second sweep has nothing to do
    expect(await relay.sweep()).toBe(0);
    // a crash after the publish but before the positions were stored: a new process publishes again, and
    // JetStream drops the second copy
    await store.commits.db.collection(OUTBOX_POSITIONS).deleteMany({});
    await store.commits.db.collection(OUTBOX_SWEEP).deleteMany({});
    const restarted = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity', sweepGraceMs: 0 });
    expect(await restarted.sweep()).toBe(3);
    const second = await readEventsStream(nc);
    expect(second).toHaveLength(first.length);
    expectEachOnceInStreamOrder(second, appended);
  });

  it('no sweep reads the commits while every writer is alive; the commits of a writer that died or stopped are swept once it has settled', async () => {
    const monitored = await new MongoClient(requireInfraEnv().mongoUrl, { monitorCommands: true }).connect();
    const relays: OutboxRelay[] = [];
    try {
      const db = monitored.db(testDatabaseName('relay_writers'));
      const store = createEventStore(db, { service: 'identity' });
      await store.ensureIndexes();
      const sweeps: number[] = [];
      monitored.on('commandStarted', (e) => e.commandName === 'find' && e.command.find === COMMITS && sweeps.push(Date.now()));
      // heartbeats every 200 ms: a writer silent for 1.2 s is dead, and its commits are swept 400 ms after it last spoke
      const relay = () =>
        createOutboxRelay({
          commits: store.commits,
          js: nc.jetstream(),
          naming: testNaming(),
          service: 'identity',
          sweepIntervalMs: 50,
          heartbeatMs: 200,
          sweepGraceMs: 0,
        });
      const [a, b] = [relay(), relay()];
      relays.push(a, b);
      sweeps.length = 0; // (what ensureIndexes read)
      await Promise.all([a.start(), b.start()]);
      const writers = db.collection<OutboxWriter>(OUTBOX_WRITERS);
      expect(await writers.countDocuments({ gone: { $exists: false } })).toBe(2);
      await until('the sweep after start', async () => sweeps.length === 2, 2000); // one by each
      await new Promise((r) => setTimeout(r, 1500));
      // 30 ticks and 7 heartbeats each, and no sweep
      expect(sweeps).toHaveLength(2);

      // "another replica" appended, then died before publishing (no relay saw the append) and without saying so
      await writers.insertOne({ _id: 'dead', aliveAt: new Date() });
      const appended = await appendStream(store, 2, 1);
      await until('a sweep publishes what the dead writer left', async () => (await unpublishedCommits(store.commits)) === 0, 5000);
      expectEachOnceInStreamOrder(
        (await readEventsStream(nc)).filter((p) => appended.some((e) => e.id === p.event.id)),
        appended,
      );
      await until('and forgets the writer', async () => (await writers.countDocuments({ _id: 'dead' })) === 0, 2000);
      // each relay swept (the window, then the stream's commits for its round, then once more: it had found work), then no more
      await new Promise((r) => setTimeout(r, 500));
      const afterDeath = sweeps.length;
      expect(afterDeath).toBeGreaterThanOrEqual(4);
      await new Promise((r) => setTimeout(r, 1000));
      expect(sweeps).toHaveLength(afterDeath);

      // a writer that dies after a sweep already covered its last words (a crashed replica whose restart swept
      // before it was taken for dead) is forgotten without another sweep
      await writers.insertOne({ _id: 'covered', aliveAt: new Date() });
      await new Promise((r) => setTimeout(r, 450)); // settled: 2 heartbeats
      expect(await a.sweep()).toBe(0); // the checkpoint moves past them
      const covered = sweeps.length;
      await until('the covered writer is forgotten once silent', async () => (await writers.countDocuments({ _id: 'covered' })) === 0, 3000);
      await new Promise((r) => setTimeout(r, 500));
      expect(sweeps).toHaveLength(covered);

      // a relay that stops says it is gone: the other one sweeps what was appended "during the shutdown"
      await b.stop();
      expect(await writers.countDocuments({ gone: true })).toBe(1);
      const late = await appendStream(store, 1, 1);
      await until('the other relay publishes what the stopped one left', async () => (await unpublishedCommits(store.commits)) === 0, 5000);
      expect((await readEventsStream(nc)).filter((p) => late.some((e) => e.id === p.event.id))).toHaveLength(1);
      await until('and forgets it', async () => (await writers.countDocuments({})) === 1, 2000);
      await new Promise((r) => setTimeout(r, 500));
      const settled = sweeps.length;
      await new Promise((r) => setTimeout(r, 1000));
      expect(sweeps).toHaveLength(settled);

      // a restart: the new relay's first sweep waits until the stopped one has settled, and covers it (one sweep)
      await a.stop();
      const c = relay();
      relays.push(c);
      await c.start();
      await until('the restarted relay forgets the stopped one', async () => (await writers.countDocuments({ gone: true })) === 0, 3000);
      await new Promise((r) => setTimeout(r, 500));
      expect(sweeps).toHaveLength(settled + 1);
    } finally {
      for (const r of relays) await r.stop();
      await monitored.close();
    }
  });

  it('a stream that cannot be published does not hold up the sweep of the others', async () => {
    const { store } = await storeWith('relay_stuck', () => []);
    // bigger than NATS max_payload (1 MB), and first in streamId order
    const userId = randomUUID();
    const huge = { ...renamed(userId, 1), data: { userId, name: 'x'.repeat(2_000_000), previousName: '' } };
    await store.append(`user-0-${userId}`, 0, [huge], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    const appended = (await Promise.all([appendStream(store, 2, 1), appendStream(store, 2, 1)])).flat();

    const relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity', sweepGraceMs: 0 });
    await expect(relay.sweep()).rejects.toThrow(/1 of 3 streams not published: user-0-/);
    expect(await unpublishedCommits(store.commits)).toBe(1);
    expectEachOnceInStreamOrder(await readEventsStream(nc), appended);
  });

  it("sends a stream's pending events in batches of up to RELAY_BATCH_EVENTS with their acks awaited together, and stores the position in one small write", async () => {
    const monitored = await new MongoClient(requireInfraEnv().mongoUrl, { monitorCommands: true }).connect();
    try {
      const updates: CommandStartedEvent[] = [];
      const inserts: CommandStartedEvent[] = [];
      monitored.on('commandStarted', (e) => (e.commandName === 'update' ? updates : e.commandName === 'insert' ? inserts : []).push(e));
      const store = createEventStore(monitored.db(testDatabaseName('relay_batch')), { service: 'identity' });
      await store.ensureIndexes();
      // 130 commits of 2 events in one stream, none published yet (a crash, or NATS was down)
      const appended = await appendStream(store, 130, 2);
      const observed = observedPublish(nc);
      const relay = createOutboxRelay({
        commits: store.commits,
        js: nc.jetstream(),
        publish: observed.publish,
        naming: testNaming(),
        service: 'identity',
        sweepGraceMs: 0,
      });

      expect(await relay.sweep()).toBe(1);

      expect(observed.maxInFlight()).toBe(RELAY_BATCH_EVENTS);
      // no commit is updated; the stream's position is stored in one write of one document (at most one per
      // batch): its first, which holds the stream's version 1, is an insert, a second an update
      expect(updates.filter((u) => u.command.update === COMMITS)).toEqual([]);
      const positionInserts = inserts.filter((u) => u.command.insert === OUTBOX_POSITIONS);
      const positionUpdates = updates.filter((u) => u.command.update === OUTBOX_POSITIONS);
      expect(positionInserts).toHaveLength(1);
      expect(positionInserts[0].command.documents).toHaveLength(1);
      expect(positionUpdates.length).toBeLessThanOrEqual(1);
      for (const u of positionUpdates) expect(u.command.updates).toHaveLength(1);
      expect(await store.commits.db.collection(OUTBOX_POSITIONS).find().toArray()).toEqual([{ _id: appended[0].streamId, version: 260 }]);
      expect(await unpublishedCommits(store.commits)).toBe(0);
      expectEachOnceInStreamOrder(await readEventsStream(nc), appended);
    } finally {
      await monitored.close();
    }
  });

  it('a round after an append holds a moment, so that the commits appended meanwhile go with it; flushStream does not wait for the hold', async () => {
    let relay: OutboxRelay | undefined;
    const { store } = await storeWith('relay_hold', () => (relay ? [relay] : []));
    const sent: number[] = [];
    const observed = observedPublish(nc, () => sent.push(performance.now()));
    relay = createOutboxRelay({
      commits: store.commits,
      js: nc.jetstream(),
      publish: observed.publish,
      naming: testNaming(),
      service: 'identity',
      holdMs: 1000,
    });
    try {
      // three commits of one stream appended one after another, well within the hold: one round publishes them
      const started = performance.now();
      const held = await appendStream(store, 3, 1);
      await until('the held round published', async () => observed.calls() >= 3, 10_000);
      expect(sent[0] - started).toBeGreaterThanOrEqual(900);
      expect(sent[2] - sent[0]).toBeLessThan(50); // sent together (the next round would start after these acks)
      // a command that waits for its events (flushStream) right after its append does not wait for the hold
      const before = observed.calls();
      const waited = performance.now();
      const [next] = await appendStream(store, 1, 1);
      await relay.flushStream(next.streamId);
      expect(performance.now() - waited).toBeLessThan(500);
      expect(observed.calls()).toBe(before + 1);
      await relay.flush();
      expectEachOnceInStreamOrder(await readEventsStream(nc), [...held, next]);
    } finally {
      observed.close();
    }
  });

  it('an event NATS refuses stops its stream there: nothing after it is published before it', async () => {
    const { store } = await storeWith('relay_too_big', () => []);
    const before = await appendStream(store, 2, 3);
    const userId = before[0].data.userId as string;
    const streamId = before[0].streamId;
    const huge = { ...renamed(userId, 7), data: { userId, name: 'x'.repeat(2_000_000), previousName: '' } };
    await store.append(streamId, 6, [huge], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    for (let v = 7; v < 10; v++) await store.append(streamId, v, [renamed(userId, v + 1)], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });

    const relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity', sweepGraceMs: 0 });
    const failure = await relay.sweep().then(
      () => 'published everything',
      (err: Error) => err.message,
    );

    const published = (await readEventsStream(nc)).filter((p) => p.event.streamId === streamId);
    expect(published.map((p) => p.event.streamVersion)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await unpublishedCommits(store.commits)).toBe(4);
    expect(failure).toMatch(/version 7\) is \d+ bytes, more than NATS accepts/);
    // the backlog it reports (metrics): the 4 commits it found and could not publish, the oldest the huge one's
    const hugeCommit = await store.commits.findOne({ streamId, fromVersion: 7 });
    expect(relay.backlog()).toEqual({ commits: 4, oldestCommittedAt: hugeCommit!.committedAt });
  });

  it('two relays publishing the same streams at once still give each event once, in stream order', async () => {
    const relays: OutboxRelay[] = [];
    const { store } = await storeWith('relay_two', () => relays);
    const other = await connectNats(requireInfraEnv().natsUrl, 'outbox-relay-test-2');
    try {
      for (const conn of [nc, other])
        relays.push(createOutboxRelay({ commits: store.commits, js: conn.jetstream(), naming: testNaming(), service: 'identity', sweepGraceMs: 0 }));
      const appended = (await Promise.all(Array.from({ length: 6 }, (_, i) => appendStream(store, 15, 1 + (i % 3))))).flat();
      // both also sweep while their publishes after the appends are still running
      await Promise.all(relays.map((r) => r.sweep()));
      for (const r of relays) await r.flush();

      expect(await unpublishedCommits(store.commits)).toBe(0);
      expectEachOnceInStreamOrder(await readEventsStream(nc), appended);
    } finally {
      await other.drain();
    }
  });

  /** Sets a commit's commit time, as if its writer had taken it that long before the insert became visible. */
  const backdate = (store: EventStore, streamId: string, ms: number) =>
    store.commits.updateMany({ streamId }, { $set: { committedAt: new Date(Date.now() - ms) } });

  it('the sweep reads only its window: from a lookback before its checkpoint, so a commit visible late is still published', async () => {
    const { store } = await storeWith('relay_window', () => []);
    const relay = createOutboxRelay({
      commits: store.commits,
      js: nc.jetstream(),
      naming: testNaming(),
      service: 'identity',
      sweepGraceMs: 0,
      sweepLookbackMs: 60_000,
    });
    expect(await relay.sweep()).toBe(0); // sets the checkpoint to now
    // appended without a publish (their writer crashed); one became visible 5 s after its commit time, the other 5 min
    const late = await appendStream(store, 2, 1);
    const older = await appendStream(store, 2, 1);
    await backdate(store, late[0].streamId, 5_000);
    await backdate(store, older[0].streamId, 300_000);

    expect(await relay.sweep()).toBe(1);
    const published = await readEventsStream(nc);
    expectEachOnceInStreamOrder(published, late);
    expect(published.filter((p) => p.event.streamId === older[0].streamId)).toEqual([]);

    // beyond the lookback: published before the stream's next event, by whichever relay publishes that one
    const userId = older[0].data.userId as string;
    const next = await store.append(older[0].streamId, 2, [renamed(userId, 3)], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    relay.onAppended(next.commit);
    await relay.flushStream(older[0].streamId);
    expectEachOnceInStreamOrder(await readEventsStream(nc), [...late, ...older, ...next.commit.events]);
  });

  it("a sweep that cannot publish a stream keeps its checkpoint before that stream's first unpublished commit", async () => {
    const { store } = await storeWith('relay_pinned', () => []);
    const userId = randomUUID();
    const huge = { ...renamed(userId, 1), data: { userId, name: 'x'.repeat(2_000_000), previousName: '' } };
    const stuck = await store.append(`user-0-${userId}`, 0, [huge], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    const first = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity', sweepGraceMs: 0 });
    await expect(first.sweep()).rejects.toThrow(/1 of 1 streams not published/);
    const checkpoint = await store.commits.db.collection(OUTBOX_SWEEP).findOne({});
    expect(checkpoint?.since.getTime()).toBeLessThanOrEqual(stuck.commit.committedAt.getTime());

    // another relay (a restart), looking back nothing, still finds the stream
    const appended = await appendStream(store, 2, 1);
    const second = createOutboxRelay({
      commits: store.commits,
      js: nc.jetstream(),
      naming: testNaming(),
      service: 'identity',
      sweepGraceMs: 0,
      sweepLookbackMs: 0,
    });
    await expect(second.sweep()).rejects.toThrow(/1 of 2 streams not published: user-0-/);
    expectEachOnceInStreamOrder(await readEventsStream(nc), appended);
  });

  it("a new stream's first position is inserted, not upserted (no scan on FerretDB); one another replica stored meanwhile is not moved back", async () => {
    const monitored = await new MongoClient(requireInfraEnv().mongoUrl, { monitorCommands: true }).connect();
    try {
      let relay: OutboxRelay | undefined;
      const { db, store } = await storeWith('relay_first_position', () => (relay ? [relay] : []), monitored);
      relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity' });
      const writes: CommandStartedEvent[] = [];
      monitored.on('commandStarted', (e) => ['insert', 'update'].includes(e.commandName) && e.command[e.commandName] === OUTBOX_POSITIONS && writes.push(e));

      // three new streams, then their positions stored together
      const fresh = await Promise.all([appendStream(store, 2, 1), appendStream(store, 1, 3), appendStream(store, 1, 1)]);
      await relay.flush();
      expect(writes.map((e) => e.commandName)).toEqual(['insert']);
      expect(writes[0].command.documents).toHaveLength(3);

      // another replica (its sweep) stored positions of two new streams before this relay: one ahead of what this
      // relay acked, one behind it; the inserts fail on their keys, and the $max upserts keep the further one
      const [ahead, behind] = [randomUUID(), randomUUID()];
      await db.collection<{ _id: string; version: number }>(OUTBOX_POSITIONS).insertMany([
        { _id: `user-${ahead}`, version: 7 },
        { _id: `user-${behind}`, version: 0 },
      ]);
      writes.length = 0;
      const meta = () => ({ commandId: randomUUID(), meta: systemMeta(randomUUID()) });
      const raced = [
        ...(await store.append(`user-${ahead}`, 0, [renamed(ahead, 1), renamed(ahead, 2)], meta())).commit.events,
        ...(await store.append(`user-${behind}`, 0, [renamed(behind, 1), renamed(behind, 2)], meta())).commit.events,
      ];
      await relay.flush();
      expect(writes.map((e) => e.commandName)).toEqual(['insert', 'update']);
      const stored = await db
        .collection<{ _id: string; version: number }>(OUTBOX_POSITIONS)
        .find({ _id: { $in: [`user-${ahead}`, `user-${behind}`] } })
        .sort({ _id: 1 })
        .toArray();
      expect(Object.fromEntries(stored.map((p) => [p._id, p.version]))).toEqual({ [`user-${ahead}`]: 7, [`user-${behind}`]: 2 });
      expect(await unpublishedCommits(store.commits)).toBe(0);
      expectEachOnceInStreamOrder(await readEventsStream(nc), [...fresh.flat(), ...raced]);
    } finally {
      await monitored.close();
    }
  });

  it("a relay that did not publish a stream's earlier commits reads its stored position, not the commits", async () => {
    const monitored = await new MongoClient(requireInfraEnv().mongoUrl, { monitorCommands: true }).connect();
    try {
      let relay: OutboxRelay | undefined;
      const { store } = await storeWith('relay_position', () => (relay ? [relay] : []), monitored);
      relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity' });
      const before = await appendStream(store, 3, 1);
      await relay.flush();

      // a new process appends to the stream
      relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity' });
      const reads: CommandStartedEvent[] = [];
      monitored.on('commandStarted', (e) => ['find', 'aggregate', 'update'].includes(e.commandName) && reads.push(e));
      const userId = before[0].data.userId as string;
      const next = await store.append(before[0].streamId, 3, [renamed(userId, 4)], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
      await relay.flush();

      expect(reads.map((e) => [e.commandName, e.command[e.commandName]])).toEqual([
        ['find', OUTBOX_POSITIONS],
        ['update', OUTBOX_POSITIONS],
      ]);
      expect(reads[0].command.filter).toEqual({ _id: before[0].streamId });
      expectEachOnceInStreamOrder(await readEventsStream(nc), [...before, ...next.commit.events]);
    } finally {
      await monitored.close();
    }
  });

  it('the published flags of before become positions once: commits flagged published are not published again, the others are', async () => {
    const { db, store } = await storeWith('relay_legacy', () => []);
    // a database as the relay of before left it: its index, and commits with their flags
    await store.commits.dropIndex('committed_at');
    await store.commits.createIndex({ published: 1, committedAt: 1 }, { name: 'unpublished' });
    const flaggedPublished = await appendStream(store, 2, 1);
    const flaggedUnpublished = await appendStream(store, 2, 1);
    await store.commits.updateMany({ streamId: flaggedPublished[0].streamId }, { $set: { published: true } });
    await store.commits.updateMany({ streamId: flaggedUnpublished[0].streamId }, { $set: { published: false } });

    await store.ensureIndexes();
    expect((await store.commits.listIndexes().toArray()).map((i) => i.name).sort()).toEqual(['_id_', 'command_id', 'committed_at', 'stream_position']);
    expect(await db.collection(OUTBOX_POSITIONS).find().toArray()).toEqual([{ _id: flaggedPublished[0].streamId, version: 2 }]);
    await store.ensureIndexes(); // once the flags are positions, nothing more happens

    let relay: OutboxRelay | undefined;
    const relayed = createEventStore(db, { service: 'identity', onAppended: (c) => relay?.onAppended(c) });
    relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'identity', sweepGraceMs: 0 });
    expect(await relay.sweep()).toBe(1);
    // the next event of the flagged-published stream goes out alone
    const userId = flaggedPublished[0].data.userId as string;
    const next = await relayed.append(flaggedPublished[0].streamId, 2, [renamed(userId, 3)], { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    await relay.flushStream(next.commit.streamId);

    const published = (await readEventsStream(nc)).filter((p) => [flaggedPublished[0].streamId, flaggedUnpublished[0].streamId].includes(p.event.streamId));
    expect(published.map((p) => p.event.id)).toEqual([...flaggedUnpublished, ...next.commit.events].map((e) => e.id));
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
        await ensureStreams(conn, testNaming());
        // nothing is published at append time (as after a crash): the relay below finds it all at once
        const { store } = await storeWith('relay_mid_batch', () => []);
        // 3 streams of 600 events (60 commits of 10): three batches each
        const appended = (await Promise.all(Array.from({ length: 3 }, () => appendStream(store, 60, 10)))).flat();
        const mine = (published: Published[]) => published.filter((p) => appended.some((e) => e.id === p.event.id));

        // the server is stopped while the relay sends its batches: in the middle of the second one it starts
        let stopped: Promise<void> | undefined;
        const observed = observedPublish(conn, (call) => {
          if (call === RELAY_BATCH_EVENTS + 50) stopped = server!.stop();
        });
        const relay = createOutboxRelay({
          commits: store.commits,
          js: conn.jetstream(),
          publish: observed.publish,
          naming: testNaming(),
          service: 'identity',
          sweepGraceMs: 0,
        });
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
            return (await unpublishedCommits(store.commits)) === 0;
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
      await ensureStreams(ownNc, testNaming());
      let r: OutboxRelay | undefined;
      const { store } = await storeWith('relay_restart', () => (r ? [r] : []));
      relay = r = createOutboxRelay({
        commits: store.commits,
        js: ownNc.jetstream(),
        naming: testNaming(),
        service: 'identity',
        sweepIntervalMs: 300,
        sweepGraceMs: 200,
      });
      relay.start();

      // a few events before the outage
      const before = (await Promise.all([appendStream(store, 2, 1), appendStream(store, 2, 1)])).flat();
      for (const e of before) await relay.flushStream(e.streamId);
      // flushStream waits for the acks; the positions are stored up to 200 ms later (later on a loaded machine)
      await until('the positions of the acked commits are stored', async () => (await unpublishedCommits(store.commits)) === 0);

      await server!.stop();
      // 200 events over 10 streams while NATS is down: the appends succeed, the publishes fail
      const during = (await Promise.all(Array.from({ length: 10 }, () => appendStream(store, 10, 2)))).flat();
      expect(during).toHaveLength(200);
      expect(await unpublishedCommits(store.commits)).toBe(100);
      const waiting = relay.backlog();
      expect(waiting.commits).toBe(100);
      expect(Date.now() - waiting.oldestCommittedAt!.getTime()).toBeGreaterThanOrEqual(0);

      server = await startNatsServer(bin!, dataDir, port);
      await until('every commit is published', async () => (await unpublishedCommits(store.commits)) === 0);
      expect(relay.backlog().commits).toBe(0);

      expectEachOnceInStreamOrder(await readEventsStream(ownNc), [...before, ...during]);
    });
  });
});
