import type { Db, MongoClient } from 'mongodb';
import { testDatabaseName, testMongo } from '@app/testing';
import { scheduleSnapshots, type SnapshotSchedule } from './snapshot-schedule';
import { chunkedSnapshotStore, type SnapshotCodec, type SnapshotHead } from './snapshot-store';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => Promise<T | undefined | null> | T | undefined | null, timeoutMs = 20_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(20)) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/**
 * The shared snapshot scheduler on the real chunked store (FerretDB): a view of the test's own (a sequence),
 * written through a codec whose encoding can be held, to see what happens while a write is in flight.
 */
describe('scheduleSnapshots (libs/event-store) on the chunked store', () => {
  let mongo: MongoClient;
  let db: Db;
  const stream = { name: 'EVENTS', created: '2026-01-01T00:00:00.000Z' };
  let n = 0;
  const running: { stop(): Promise<void> }[] = [];
  /** every held write is let go at the end, so that a failed test leaves none hanging */
  const releases: (() => void)[] = [];

  /** a store on collections of its own, a view at `position`, and what its codec saw */
  function replica(collections?: string) {
    const names = collections ?? `sched_${++n}`;
    const seen = { encoded: [] as number[], inFlight: 0, maxInFlight: 0, failNext: false };
    let release: () => void = () => undefined;
    let held: Promise<void> | undefined;
    const codec: SnapshotCodec<{ sequence: number }, { sequence: number }, { marker: string }> = {
      format: 1,
      sequence: (s) => s.sequence,
      async encode(s) {
        seen.encoded.push(s.sequence);
        seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight);
        try {
          await held;
          if (seen.failNext) {
            seen.failNext = false;
            throw new Error('disk full');
          }
          return { chunks: [{ sequence: s.sequence }], head: { marker: 'x' } };
        } finally {
          seen.inFlight--;
        }
      },
      decode: async (chunks, head) => ({ sequence: head.sequence }),
    };
    const store = chunkedSnapshotStore(db, { name: 'test', heads: `${names}_heads`, chunks: `${names}_chunks`, codec });
    const view = { position: 0, idle: true };
    const logged: { info: [object, string][]; warn: [object, string][] } = { info: [], warn: [] };
    const written: SnapshotHead[] = [];
    const start = (schedule: Partial<SnapshotSchedule> = {}, newest?: { sequence: number; createdAt: Date }) => {
      const s = scheduleSnapshots({
        name: 'test view',
        store,
        stream,
        schedule: { everyEvents: 10, everyMs: 0, checkEveryMs: 20, ...schedule },
        position: () => view.position,
        take: () => ({ sequence: view.position }),
        idle: () => view.idle,
        newest,
        logger: { info: (o, m) => logged.info.push([o, m]), warn: (o, m) => logged.warn.push([o, m]) },
        onWritten: (head) => written.push(head),
      });
      running.push(s);
      return s;
    };
    const hold = () => (held = new Promise((r) => releases.push((release = r))));
    const heads = async () => (await db.collection<SnapshotHead>(`${names}_heads`).find().sort({ sequence: 1 }).toArray()).map((h) => h.sequence);
    return { names, store, view, seen, logged, written, start, hold, release: () => release(), heads };
  }

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('snapshot_schedule'));
  });
  afterAll(async () => {
    releases.forEach((r) => r());
    await Promise.all(running.map((s) => s.stop()));
    await mongo.close();
  });

  it('writes when due (enough events and enough time since the newest) and idle, then not again until due again', async () => {
    const r = replica();
    r.view.position = 35; // 15 past the restored snapshot
    r.start({ everyMs: 600 }, { sequence: 20, createdAt: new Date() });
    await sleep(300);
    expect(r.seen.encoded).toEqual([]); // idle and 15 events, but not 600 ms yet
    r.view.idle = false;
    await sleep(600);
    expect(r.seen.encoded).toEqual([]); // due, but busy
    r.view.idle = true;
    await until('a snapshot at 35', () => r.written.length > 0); // after its head and the prune
    expect(await r.heads()).toEqual([35]);
    expect(r.seen.encoded).toEqual([35]);
    expect(r.written.map((h) => h.sequence)).toEqual([35]);
    expect(r.logged.info).toEqual([[{ sequence: 35, chunks: 1, ms: expect.any(Number) }, 'test view snapshot written']]);
    r.view.position = 44;
    await sleep(1000);
    expect(r.seen.encoded).toEqual([35]); // time passed, 9 events only
    r.view.position = 45;
    await until('a snapshot at 45', () => r.written.length > 1);
    expect(r.seen.encoded).toEqual([35, 45]);
  });

  it('writes none when another replica has written one recently enough', async () => {
    const mine = replica();
    const other = replica(mine.names); // the same collections: another replica of the view
    await other.store.write({ sequence: 50 }, stream);
    mine.view.position = 100; // 100 past what it knows (nothing), 50 past the other's, which is recent
    mine.start({ everyMs: 60_000 });
    await sleep(400);
    expect(mine.seen.encoded).toEqual([]);
    expect(await mine.heads()).toEqual([50]);
  });

  it('one write at a time: due again while one is in flight, and writeNow, join it', async () => {
    const r = replica();
    r.hold();
    r.view.position = 10;
    const s = r.start();
    await until('a write in flight', () => r.seen.inFlight > 0);
    r.view.position = 30; // due again
    let joined = false;
    const now = s.writeNow().then(() => (joined = true));
    await sleep(200);
    expect(r.seen.encoded).toEqual([10]);
    expect(joined).toBe(false);
    r.release();
    await now;
    await until('the next snapshot', async () => (await r.heads()).includes(30));
    expect(r.seen.encoded).toEqual([10, 30]);
    expect(r.seen.maxInFlight).toBe(1);
  });

  it('writeNow writes whether due or not; a failed write is logged and tried again when next due', async () => {
    const r = replica();
    r.view.position = 3;
    r.view.idle = false;
    const s = r.start({ everyEvents: 1000 });
    await s.writeNow();
    expect(await r.heads()).toEqual([3]);
    r.seen.failNext = true;
    r.view.position = 5;
    await s.writeNow();
    expect(r.logged.warn).toEqual([[{ reason: 'disk full' }, 'test view snapshot not written']]);
    expect(await r.heads()).toEqual([3]);
    r.view.position = 2000;
    r.view.idle = true;
    await until('a snapshot at 2000', async () => (await r.heads()).includes(2000));
  });

  it('stop waits for the write in flight, and no write starts after it', async () => {
    const r = replica();
    r.hold();
    r.view.position = 10;
    const s = r.start();
    await until('a write in flight', () => r.seen.inFlight > 0);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await sleep(200);
    expect(stopped).toBe(false);
    r.release();
    await stopping;
    expect(await r.heads()).toEqual([10]); // the write was done when stop resolved
    r.view.position = 100;
    await s.writeNow();
    await sleep(200);
    expect(r.seen.encoded).toEqual([10]);
  });
});
