import { createHash, randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Binary, type Db } from 'mongodb';
import type { AccessView, AccessViewSnapshot } from './access-view';
import type { OrgAccessSnapshot } from '@app/access-model';

/**
 * Snapshots of the authorization view in the service's MongoDB, so a replica starts from the newest one and
 * consumes only the events stream after it (docs/authorization.md, "Snapshots").
 *
 * Encoding (format 2): UTF-8 lines, gzip'ed — a header `{"format":2,"sequence":S,"orgs":N}`, then one
 * `OrgAccessSnapshot` per line (format 1, before bindings moved to membership, held less of each organization:
 * such a snapshot is skipped and the view replayed from the stream). The bytes are stored in chunks of at most 4 MiB (`view_snapshot_chunks`, a
 * document is limited to 16 MB and one large organization can exceed that), then a head document
 * (`view_snapshots`) with the format, the sequence, the stream it belongs to, the chunk count, the length and
 * the SHA-256 of the bytes. The head is written last: a snapshot without one is incomplete and never read.
 */
export const SNAPSHOT_FORMAT = 2;
const CHUNK_BYTES = 4 * 1024 * 1024;
/** chunks without a head older than this belong to a writer that died: removed when pruning */
const ORPHAN_AGE_MS = 10 * 60_000;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Which events stream a snapshot's sequence numbers refer to: a stream deleted and made again restarts at 1. */
export interface StreamIdentity {
  name: string;
  /** creation time of the stream (JetStream stream info) */
  created: string;
}

export interface SnapshotHead {
  _id: string;
  format: number;
  stream: string;
  streamCreated: string;
  sequence: number;
  orgs: number;
  chunks: number;
  bytes: number;
  sha256: string;
  createdAt: Date;
}

interface SnapshotChunk {
  _id: string;
  snapshot: string;
  i: number;
  data: Binary;
  createdAt: Date;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Serializes (yielding to the event loop between organizations) and compresses (zlib's thread pool). */
export async function encodeSnapshot(s: AccessViewSnapshot): Promise<Buffer> {
  const lines = [JSON.stringify({ format: SNAPSHOT_FORMAT, sequence: s.sequence, orgs: s.orgs.length })];
  let sinceYield = 0;
  for (const org of s.orgs) {
    const line = JSON.stringify(org);
    lines.push(line);
    sinceYield += line.length;
    if (sinceYield > 1_000_000) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  return gzipAsync(Buffer.from(lines.join('\n'), 'utf8'), { level: 1 });
}

/** The snapshot in `bytes`; throws on anything that is not a complete snapshot of format 1. */
export async function decodeSnapshot(bytes: Buffer): Promise<AccessViewSnapshot> {
  const lines = (await gunzipAsync(bytes)).toString('utf8').split('\n');
  const header = JSON.parse(lines[0]) as { format: number; sequence: number; orgs: number };
  if (header.format !== SNAPSHOT_FORMAT) throw new Error(`unknown snapshot format ${header.format}`);
  if (lines.length - 1 !== header.orgs) throw new Error(`snapshot holds ${lines.length - 1} organizations, its header says ${header.orgs}`);
  const orgs = lines.slice(1).map((l) => JSON.parse(l) as OrgAccessSnapshot);
  return { sequence: header.sequence, orgs };
}

export type SnapshotStore = ReturnType<typeof snapshotStore>;

export function snapshotStore(db: Db, opts: { chunkBytes?: number } = {}) {
  const chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
  const heads = db.collection<SnapshotHead>('view_snapshots');
  const chunks = db.collection<SnapshotChunk>('view_snapshot_chunks');
  const ofStream = (stream: StreamIdentity) => ({ stream: stream.name, streamCreated: stream.created });

  return {
    async ensureIndexes(): Promise<void> {
      // one index per command (FerretDB v1, docs/architecture.md)
      await heads.createIndex({ stream: 1, streamCreated: 1, sequence: -1 });
      await chunks.createIndex({ snapshot: 1 });
    },

    /** The newest complete snapshot of this stream, whatever its format. */
    newest(stream: StreamIdentity): Promise<SnapshotHead | null> {
      return heads.find(ofStream(stream)).sort({ sequence: -1 }).limit(1).next();
    },

    async write(snapshot: AccessViewSnapshot, stream: StreamIdentity): Promise<SnapshotHead> {
      const bytes = await encodeSnapshot(snapshot);
      const id = randomUUID();
      const createdAt = new Date();
      const count = Math.max(1, Math.ceil(bytes.length / chunkBytes));
      for (let i = 0; i < count; i++)
        await chunks.insertOne({ _id: `${id}:${i}`, snapshot: id, i, data: new Binary(bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes)), createdAt });
      const head: SnapshotHead = {
        _id: id,
        format: SNAPSHOT_FORMAT,
        ...ofStream(stream),
        sequence: snapshot.sequence,
        orgs: snapshot.orgs.length,
        chunks: count,
        bytes: bytes.length,
        sha256: sha256(bytes),
        createdAt,
      };
      await heads.insertOne(head);
      return head;
    },

    /**
     * The newest snapshot of this stream that this code can read and that checks out (format, sequence not
     * beyond the stream's end, every chunk, length, SHA-256, decoding); the ones that do not are skipped with
     * a warning. Undefined: none, replay the whole stream.
     */
    async load(
      stream: StreamIdentity,
      lastSequence: number,
      logger?: { warn(obj: object, msg: string): void },
    ): Promise<{ snapshot: AccessViewSnapshot; head: SnapshotHead } | undefined> {
      for (const head of await heads.find(ofStream(stream)).sort({ sequence: -1 }).limit(5).toArray()) {
        try {
          if (head.format !== SNAPSHOT_FORMAT) throw new Error(`format ${head.format} is not known to this version (${SNAPSHOT_FORMAT})`);
          if (head.sequence > lastSequence) throw new Error(`sequence ${head.sequence} is beyond the stream's last sequence ${lastSequence}`);
          const ids = Array.from({ length: head.chunks }, (_, i) => `${head._id}:${i}`);
          const found = await chunks.find({ _id: { $in: ids } }).toArray();
          if (found.length !== head.chunks) throw new Error(`${found.length} of ${head.chunks} chunks found`);
          found.sort((a, b) => a.i - b.i);
          const bytes = Buffer.concat(found.map((c) => Buffer.from(c.data.buffer)));
          if (bytes.length !== head.bytes || sha256(bytes) !== head.sha256) throw new Error('checksum mismatch');
          const snapshot = await decodeSnapshot(bytes);
          if (snapshot.sequence !== head.sequence) throw new Error(`holds sequence ${snapshot.sequence}, its head says ${head.sequence}`);
          return { snapshot, head };
        } catch (err) {
          logger?.warn({ snapshot: head._id, sequence: head.sequence, reason: (err as Error).message }, 'authorization view snapshot ignored');
        }
      }
      return undefined;
    },

    /** Keeps the `keep` newest snapshots of this stream; removes the others, and chunks left by dead writers. */
    async prune(stream: StreamIdentity, keep = 2): Promise<void> {
      const kept = (await heads.find(ofStream(stream)).sort({ sequence: -1 }).limit(keep).project<{ _id: string }>({ _id: 1 }).toArray()).map((h) => h._id);
      const dropped = (
        await heads
          .find({ _id: { $nin: kept } })
          .project<{ _id: string }>({ _id: 1 })
          .toArray()
      ).map((h) => h._id);
      if (dropped.length) {
        await heads.deleteMany({ _id: { $in: dropped } });
        await chunks.deleteMany({ snapshot: { $in: dropped } });
      }
      const inProgress = await heads.find({}).project<{ _id: string }>({ _id: 1 }).toArray();
      await chunks.deleteMany({ snapshot: { $nin: inProgress.map((h) => h._id) }, createdAt: { $lt: new Date(Date.now() - ORPHAN_AGE_MS) } });
    },
  };
}

export interface SnapshotSchedule {
  /** write when at least this many stream messages were applied since the newest snapshot … */
  everyEvents: number;
  /** … and at least this long has passed since it was written (whichever comes later) */
  everyMs: number;
  /** how often the conditions are looked at */
  checkEveryMs: number;
}

export const DEFAULT_SNAPSHOT_SCHEDULE: SnapshotSchedule = { everyEvents: 10_000, everyMs: 60_000, checkEveryMs: 1_000 };

/**
 * Writes a snapshot of `view` now and then (see SnapshotSchedule), only while `idle()` (the view has caught up
 * with the stream) and one at a time. Before writing it looks at the newest snapshot in the database: when
 * another replica has written one recently enough, it writes none.
 */
export function scheduleSnapshots(opts: {
  view: AccessView;
  store: SnapshotStore;
  stream: StreamIdentity;
  schedule: SnapshotSchedule;
  /** the newest snapshot known at start-up (the one restored) */
  newest?: { sequence: number; at: number };
  idle: () => boolean;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  onWritten?: (head: SnapshotHead) => void;
}): { stop(): Promise<void> } {
  const { view, store, stream, schedule } = opts;
  let newest = opts.newest ?? { sequence: 0, at: -Infinity };
  let writing: Promise<void> | undefined;
  const due = () => view.sequence - newest.sequence >= schedule.everyEvents && Date.now() - newest.at >= schedule.everyMs;

  const write = async () => {
    const other = await store.newest(stream);
    if (other && other.sequence > newest.sequence) newest = { sequence: other.sequence, at: other.createdAt.getTime() };
    if (!due() || !opts.idle()) return;
    const started = Date.now();
    const head = await store.write(view.snapshot(), stream);
    newest = { sequence: head.sequence, at: head.createdAt.getTime() };
    opts.logger?.info(
      { sequence: head.sequence, orgs: head.orgs, bytes: head.bytes, chunks: head.chunks, ms: Date.now() - started },
      'authorization view snapshot written',
    );
    opts.onWritten?.(head);
    await store.prune(stream);
  };

  const timer = setInterval(() => {
    if (writing || !due() || !opts.idle()) return;
    writing = write()
      .catch((err: Error) => opts.logger?.warn({ err: err.message }, 'authorization view snapshot not written'))
      .finally(() => (writing = undefined));
  }, schedule.checkEveryMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await writing;
    },
  };
}
