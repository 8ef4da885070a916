import type { Collection, Db, MongoClient } from 'mongodb';
import { testDatabaseName, testMongo } from '@app/testing';
import { bytesCodec, chunkedSnapshotStore, gunzipLines, gzipLines, type SnapshotHead } from './snapshot-store';

/** A state of the test's own: a sequence and some lines (gzip'ed JSON lines, in chunks of 64 bytes: several). */
interface State {
  sequence: number;
  lines: string[];
}
const codec = bytesCodec({
  format: 1,
  sequence: (s: State) => s.sequence,
  encode: (s: State) => gzipLines([JSON.stringify(s.sequence), ...s.lines]),
  decode: async (bytes) => {
    const [sequence, ...lines] = await gunzipLines(bytes);
    return { sequence: JSON.parse(sequence) as number, lines };
  },
  chunkBytes: 64,
});
/** a state whose gzip'ed bytes do not shrink much: several chunks of 64 bytes */
const stateAt = (sequence: number): State => ({
  sequence,
  lines: Array.from({ length: 20 }, (_, i) => `${sequence}-${i}-${(sequence * 7919 + i * 104729).toString(36)}`),
});

/**
 * The `db` with one crash point: the `failAtChunk`-th insert into the chunks collection throws, as a process
 * that dies there would stop (every other command reaches the real database).
 */
function crashingDb(db: Db, chunksName: string, failAtChunk: number): Db {
  let inserts = 0;
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver) as unknown;
      return (name: string) => {
        const collection = target.collection(name);
        if (name !== chunksName) return collection;
        return new Proxy(collection, {
          get(c, p, r) {
            if (p !== 'insertOne') return Reflect.get(c, p, r) as unknown;
            return (...args: Parameters<Collection['insertOne']>) => {
              if (++inserts === failAtChunk) return Promise.reject(new Error('crash'));
              return c.insertOne(...args);
            };
          },
        });
      };
    },
  });
}

describe('chunked snapshot store (libs/event-store) on a MongoDB-wire server', () => {
  let mongo: MongoClient;
  let db: Db;
  const stream = { name: 'EVENTS', created: '2026-01-01T00:00:00.000Z' };
  let n = 0;
  /** a store on collections of its own */
  const fresh = (keep?: number) => {
    const names = { heads: `snap_heads_${++n}`, chunks: `snap_chunks_${n}` };
    return { names, store: chunkedSnapshotStore(db, { name: 'test', ...names, codec, keep }) };
  };
  const warnings: string[] = [];
  const logger = { warn: (obj: object) => warnings.push((obj as { reason: string }).reason) };

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('snapshot_store'));
  });
  afterAll(() => mongo.close());
  beforeEach(() => (warnings.length = 0));

  it('writes chunks, then a head; reads back the newest whole; keeps the two newest and removes the others with their chunks', async () => {
    const { names, store } = fresh();
    const heads: SnapshotHead[] = [];
    for (const seq of [10, 20, 30]) heads.push((await store.write(stateAt(seq), stream))!);
    expect(heads[2].chunks).toBeGreaterThan(2);
    expect(await store.load(stream, 30)).toEqual({ snapshot: stateAt(30), head: heads[2] });
    expect((await store.newest(stream))?._id).toBe(heads[2]._id);
    const left = await db.collection(names.heads).find().sort({ sequence: 1 }).toArray();
    expect(left.map((h) => h.sequence)).toEqual([20, 30]);
    const chunkIds = (await db.collection<{ _id: string }>(names.chunks).find().toArray()).map((c) => c._id).sort();
    expect(chunkIds).toEqual([...heads.slice(1).flatMap((h) => Array.from({ length: h.chunks }, (_, i) => `${h._id}:${i}`))].sort());
    expect(await store.write(stateAt(30), stream)).toBeUndefined(); // not newer than the newest head: nothing written
    expect(await db.collection(names.heads).countDocuments()).toBe(2);
  });

  it('a crash between the chunks and the head leaves the previous snapshot the newest and readable; its chunks go later', async () => {
    const { names, store } = fresh();
    const previous = (await store.write(stateAt(5), stream))!;
    const crashing = chunkedSnapshotStore(crashingDb(db, names.chunks, 2), { name: 'test', ...names, codec, orphanAgeMs: 0 });
    await expect(crashing.write(stateAt(9), stream)).rejects.toThrow('crash');
    expect(await db.collection(names.chunks).countDocuments({ snapshot: { $ne: previous._id } })).toBe(1); // the chunk written before the crash
    expect((await store.newest(stream))?._id).toBe(previous._id);
    expect(await store.load(stream, 9, logger)).toEqual({ snapshot: stateAt(5), head: previous });
    expect(warnings).toEqual([]);
    // the next write removes chunks without a head once they are older than orphanAgeMs (0 here)
    const next = (await chunkedSnapshotStore(db, { name: 'test', ...names, codec, orphanAgeMs: 0 }).write(stateAt(12), stream))!;
    const snapshots = await db.collection(names.chunks).distinct('snapshot');
    expect(snapshots.sort()).toEqual([previous._id, next._id].sort());
  });

  it('refuses a snapshot of another stream (name or creation time), beyond the stream’s end, of another format or damaged', async () => {
    const { names, store } = fresh();
    const head = (await store.write(stateAt(7), stream))!;
    expect(await store.load({ ...stream, created: '2026-02-01T00:00:00.000Z' }, 7, logger)).toBeUndefined(); // made again: restarts at 1
    expect(await store.load({ ...stream, name: 'OTHER' }, 7, logger)).toBeUndefined();
    expect(await store.newest({ ...stream, created: '2026-02-01T00:00:00.000Z' })).toBeNull();
    expect(await store.load(stream, 6, logger)).toBeUndefined();
    expect(warnings).toEqual(["sequence 7 is beyond the stream's last sequence 6"]);

    const other = chunkedSnapshotStore(db, { name: 'test', ...names, codec: { ...codec, format: 2 } });
    expect(await other.load(stream, 7, logger)).toBeUndefined();
    expect(warnings[1]).toMatch(/format 1 is not known/);

    await db.collection(names.chunks).updateOne({ _id: `${head._id}:1` } as object, { $set: { data: Buffer.from('not a snapshot') } });
    expect(await store.load(stream, 7, logger)).toBeUndefined();
    expect(warnings[2]).toBe('checksum mismatch');
  });

  it('a head of the earlier one-head layout (people view before: `_id: head`, no stream name) is never read, and the next write removes it with its chunks', async () => {
    const { names } = fresh();
    const store = chunkedSnapshotStore(db, { name: 'test', ...names, codec, keep: 1, orphanAgeMs: 0 });
    const old = { snapshot: 'old', format: 1, sequence: 5, streamCreated: stream.created, chunks: 1, bytes: 3 };
    await db.collection(names.heads).insertOne({ _id: 'head', ...old } as object);
    await db.collection(names.chunks).insertOne({ _id: 'old:0', snapshot: 'old', data: Buffer.from('old'), createdAt: new Date(0) } as object);
    expect(await store.newest(stream)).toBeNull();
    expect(await store.load(stream, 5, logger)).toBeUndefined();
    expect(warnings).toEqual([]);
    const head = (await store.write(stateAt(6), stream))!;
    expect((await db.collection(names.heads).find().toArray()).map((h) => h._id)).toEqual([head._id]);
    expect(await db.collection(names.chunks).distinct('snapshot')).toEqual([head._id]);
  });

  it('falls back to the older snapshot when the newest is damaged; with keep 1 only the newest stays', async () => {
    const { names, store } = fresh();
    const older = (await store.write(stateAt(3), stream))!;
    const newest = (await store.write(stateAt(4), stream))!;
    await db.collection(names.chunks).deleteOne({ _id: `${newest._id}:0` } as object);
    expect((await store.load(stream, 4, logger))?.head._id).toBe(older._id);
    expect(warnings).toEqual([`${newest.chunks - 1} of ${newest.chunks} chunks found`]);

    const one = fresh(1);
    await one.store.write(stateAt(1), stream);
    const last = (await one.store.write(stateAt(2), stream))!;
    expect(await db.collection(one.names.heads).find().toArray()).toEqual([last]);
    expect(await db.collection(one.names.chunks).distinct('snapshot')).toEqual([last._id]);
  });
});
