import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import type { NatsConnection } from 'nats';
import { systemMeta, type DomainEvent } from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import {
  expectEachOnceInStreamOrder,
  findBinary,
  freePort,
  observedPublish,
  readEventsStream,
  renamed,
  testDatabaseName,
  testMongo,
  until,
  waitForPort,
  testNaming,
} from '@app/testing';
import { createEventStore } from './event-store';
import { createOutboxRelay, unpublishedCommits, type OutboxRelay } from './outbox-relay';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The outbox relay while the JetStream server dies without warning (`kill -9`) and comes back with the same
 * store, with appends running all along: its own nats-server on a free port, killed in the middle of a batch.
 */
describe('outbox relay when nats-server is killed (-9) and restarted while appends run', () => {
  const bin = findBinary('nats-server');
  let dataDir: string;
  let port: number;
  let server: ChildProcess | undefined;
  let mongo: MongoClient;
  let nc: NatsConnection | undefined;
  let relay: OutboxRelay | undefined;
  let writing = false;
  let writers: Array<Promise<void>> = [];

  async function startServer(): Promise<void> {
    server = spawn(bin!, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir], { stdio: 'ignore' });
    await waitForPort(port, 30_000, server);
  }

  function kill(): Promise<void> {
    const proc = server!;
    server = undefined;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGKILL');
    return exited;
  }

  beforeAll(async () => {
    if (!bin) throw new Error('this test needs a nats-server binary (PATH or .tools/bin) to kill and restart');
    dataDir = mkdtempSync(join(tmpdir(), 'nats-kill-'));
    port = await freePort();
    await startServer();
    mongo = await testMongo();
  });
  afterAll(async () => {
    writing = false;
    await Promise.allSettled(writers);
    await relay?.stop();
    await nc?.close();
    if (server) await kill();
    await mongo.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every event reaches JetStream exactly once, first copies in version order per stream', async () => {
    nc = await connectNats(`nats://127.0.0.1:${port}`, 'outbox-relay-kill-test');
    await ensureStreams(nc, testNaming());
    // the server dies at the `at`-th publish of a batch (the publishes of one event-loop turn), right after
    // that turn: part of the batch may reach it, the rest not
    let armed: { at: number } | undefined;
    let inTurn = 0;
    let killed: Promise<void> | undefined;
    const observed = observedPublish(nc, () => {
      if (inTurn++ === 0) setImmediate(() => (inTurn = 0));
      if (armed && inTurn === armed.at) {
        armed = undefined;
        setImmediate(() => (killed = kill()));
      }
    });
    const db = mongo.db(testDatabaseName('relay_kill'));
    const store = createEventStore(db, { service: 'identity', onAppended: (c) => relay?.onAppended(c) });
    await store.ensureIndexes();
    relay = createOutboxRelay({
      commits: store.commits,
      js: nc.jetstream(),
      publish: observed.publish,
      naming: testNaming(),
      service: 'identity',
      sweepIntervalMs: 300,
      sweepGraceMs: 200,
    });
    relay.start();

    // three writers, each appending commits of 10 events to its own stream for the whole test
    writing = true;
    const appended: DomainEvent[] = [];
    writers = Array.from({ length: 3 }, async () => {
      const userId = randomUUID();
      for (let version = 0; writing; version += 10) {
        const events = Array.from({ length: 10 }, (_, i) => renamed(userId, version + i + 1));
        const r = await store.append(`user-${userId}`, version, events, { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
        appended.push(...r.commit.events);
      }
    });
    const published = () => observed.calls();

    // 1. killed in the middle of what the appends bring, then down while the appends go on
    await until('some events are published', async () => published() > 50);
    armed = { at: 5 };
    await until('the server is killed', async () => killed !== undefined);
    await killed;
    const before = appended.length;
    await until('appends went on while JetStream was down', async () => appended.length >= before + 300);
    // 2. back with the same store; killed again in the middle of a batch of the backlog
    killed = undefined;
    await startServer();
    await until('reconnected', () =>
      nc!.flush().then(
        () => true,
        () => false,
      ),
    );
    armed = { at: 50 };
    await until('the server is killed again', async () => killed !== undefined, 60_000);
    await killed;
    await sleep(500);
    // 3. back again; the appends stop after a while, then everything is published
    await startServer();
    await sleep(1000);
    writing = false;
    await Promise.all(writers);
    await until('every commit is published', async () => (await unpublishedCommits(store.commits)) === 0, 90_000);

    const stored = await readEventsStream(nc);
    expect(stored.length).toBe(appended.length);
    expectEachOnceInStreamOrder(stored, appended);
  }, 180_000);
});
