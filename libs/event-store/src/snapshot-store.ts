import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Binary, type Db, type Document } from 'mongodb';

/**
 * Snapshots of an in-memory view of the events stream, in chunks, in the service's MongoDB (docs/architecture.md
 * "Snapshots of in-memory views"): the chunks (`<snapshot>:<i>`) are written first, then a head naming the
 * stream, the sequence, the format and the chunk count. The head is written last: chunks without one are never
 * read, and removed after `orphanAgeMs`. What a chunk holds is the codec's business (bytes of a gzip'ed
 * encoding, or plain documents).
 */

/** Which events stream a snapshot's sequence refers to: a stream deleted and made again restarts at 1. */
export interface StreamIdentity {
  name: string;
  /** creation time of the stream (JetStream stream info) */
  created: string;
}

export interface SnapshotHeadFields {
  /** the snapshot's id; its chunks are `<_id>:<i>` */
  _id: string;
  format: number;
  stream: string;
  streamCreated: string;
  sequence: number;
  chunks: number;
  createdAt: Date;
}
export type SnapshotHead<H extends Document = Document> = SnapshotHeadFields & H;

/** A chunk as stored: the codec's fields and the store's (`_id`, `snapshot`, `i`, `createdAt`). */
export type SnapshotChunk<C extends Document = Document> = C & { _id: string; snapshot: string; i: number; createdAt: Date };

/** How a state becomes chunks (each one document, below MongoDB's 16 MB) and back. */
export interface SnapshotCodec<S, C extends Document = Document, H extends Document = Document> {
  /** stored in the head; a head of another format is skipped (a newer version's, or an older one's) */
  format: number;
  sequence(state: S): number;
  /** the chunks (at least one) and what the head holds besides the store's fields (counts, checksums) */
  encode(state: S): Promise<{ chunks: C[]; head: H }>;
  /** the state from its chunks, in order; throws when they do not make the whole snapshot `head` describes */
  decode(chunks: SnapshotChunk<C>[], head: SnapshotHead<H>): Promise<S>;
}

export interface SnapshotStoreOptions<S, C extends Document, H extends Document> {
  /** names the snapshots in log lines, e.g. `people` */
  name: string;
  heads: string;
  chunks: string;
  codec: SnapshotCodec<S, C, H>;
  /** heads of the stream kept after a write (default 2) */
  keep?: number;
  /** chunks without a head older than this belong to a writer that died: removed after a write (default 10 minutes) */
  orphanAgeMs?: number;
}

/** how many of the newest heads `load` tries before it gives up (replay the stream) */
const TRIES = 5;

export type SnapshotStore<S, H extends Document = Document> = {
  ensureIndexes(): Promise<void>;
  newest(stream: StreamIdentity): Promise<SnapshotHead<H> | null>;
  load(
    stream: StreamIdentity,
    lastSequence: number,
    logger?: { warn(obj: object, msg: string): void },
  ): Promise<{ snapshot: S; head: SnapshotHead<H> } | undefined>;
  write(state: S, stream: StreamIdentity): Promise<SnapshotHead<H> | undefined>;
  prune(stream: StreamIdentity): Promise<void>;
};

export function chunkedSnapshotStore<S, C extends Document, H extends Document>(db: Db, opts: SnapshotStoreOptions<S, C, H>): SnapshotStore<S, H> {
  const { codec } = opts;
  const heads = db.collection<SnapshotHeadFields>(opts.heads);
  const chunks = db.collection<SnapshotChunk>(opts.chunks);
  const ofStream = (stream: StreamIdentity) => ({ stream: stream.name, streamCreated: stream.created });
  const newestHeads = (stream: StreamIdentity, n: number) =>
    heads.find(ofStream(stream)).sort({ sequence: -1 }).limit(n).toArray() as Promise<SnapshotHead<H>[]>;

  const store: SnapshotStore<S, H> = {
    async ensureIndexes() {
      // one index per command (FerretDB v1, docs/architecture.md); chunks are read by `_id` only
      await heads.createIndex({ stream: 1, streamCreated: 1, sequence: -1 });
      await chunks.createIndex({ snapshot: 1 });
    },

    /** The newest head of this stream, whatever its format (another replica's too). */
    async newest(stream) {
      return (await newestHeads(stream, 1))[0] ?? null;
    },

    /**
     * The newest snapshot of this stream that this code can read and that checks out (format, sequence not
     * beyond the stream's end, every chunk, the codec's checks); the ones that do not are skipped with a
     * warning. When none does and a chunk was missing (a writer may have removed it after a newer head), the
     * heads are read once more. Undefined: none, replay the stream.
     */
    async load(stream, lastSequence, logger) {
      for (let round = 0; round < 2; round++) {
        let missing = false;
        for (const head of await newestHeads(stream, TRIES)) {
          try {
            if (head.format !== codec.format) throw new Error(`format ${head.format} is not known to this version (${codec.format})`);
            if (head.sequence > lastSequence) throw new Error(`sequence ${head.sequence} is beyond the stream's last sequence ${lastSequence}`);
            // one `_id` look-up per chunk: the only filter FerretDB v1 hands to its backend
            const found = await Promise.all(Array.from({ length: head.chunks }, (_, i) => chunks.findOne({ _id: `${head._id}:${i}` })));
            const present = found.filter((c) => c !== null) as SnapshotChunk<C>[];
            if (present.length !== head.chunks) {
              missing = true;
              throw new Error(`${present.length} of ${head.chunks} chunks found`);
            }
            const snapshot = await codec.decode(present, head);
            if (codec.sequence(snapshot) !== head.sequence) throw new Error(`holds sequence ${codec.sequence(snapshot)}, its head says ${head.sequence}`);
            return { snapshot, head };
          } catch (err) {
            logger?.warn({ snapshot: head._id, sequence: head.sequence, reason: (err as Error).message }, `${opts.name} snapshot ignored`);
          }
        }
        if (!missing) break;
      }
      return undefined;
    },

    /**
     * Writes the chunks, then the head, then prunes; undefined (nothing written) when a head of this stream is
     * at this sequence or later already (another replica's).
     */
    async write(state, stream) {
      const sequence = codec.sequence(state);
      const newest = await store.newest(stream);
      if (newest && newest.sequence >= sequence) return undefined;
      const encoded = await codec.encode(state);
      const id = randomUUID();
      const createdAt = new Date();
      for (const [i, chunk] of encoded.chunks.entries()) await chunks.insertOne({ ...chunk, _id: `${id}:${i}`, snapshot: id, i, createdAt });
      const head = {
        ...encoded.head,
        _id: id,
        format: codec.format,
        ...ofStream(stream),
        sequence,
        chunks: encoded.chunks.length,
        createdAt,
      } as SnapshotHead<H>;
      await heads.insertOne(head);
      await store.prune(stream);
      return head;
    },

    /**
     * Keeps the `keep` newest heads of this stream; removes every other head (older ones, other streams', other
     * layouts') with its chunks, and chunks without a head older than `orphanAgeMs`. A head written meanwhile
     * (after the one read) is left alone.
     */
    async prune(stream) {
      const all = await heads
        .find({})
        .project<{ _id: string; stream?: string; streamCreated?: string; sequence?: number }>({ stream: 1, streamCreated: 1, sequence: 1 })
        .toArray();
      const kept = new Set(
        all
          .filter((h) => h.stream === stream.name && h.streamCreated === stream.created)
          .sort((a, b) => b.sequence! - a.sequence!)
          .slice(0, opts.keep ?? 2)
          .map((h) => h._id),
      );
      const dropped = all.filter((h) => !kept.has(h._id)).map((h) => h._id);
      if (dropped.length) {
        await heads.deleteMany({ _id: { $in: dropped } });
        await chunks.deleteMany({ snapshot: { $in: dropped } });
      }
      const orphanBefore = new Date(Date.now() - (opts.orphanAgeMs ?? 10 * 60_000));
      await chunks.deleteMany({ snapshot: { $nin: [...kept] }, createdAt: { $lt: orphanBefore } });
    },
  };
  return store;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** UTF-8 lines, gzip'ed at level 1 (in zlib's thread pool). */
export const gzipLines = (lines: string[]): Promise<Buffer> => gzipAsync(Buffer.from(lines.join('\n'), 'utf8'), { level: 1 });
export const gunzipLines = async (bytes: Buffer): Promise<string[]> => (await gunzipAsync(bytes)).toString('utf8').split('\n');

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A codec of a state encoded as bytes (`encode`/`decode`, e.g. `gzipLines` of JSON lines), stored in chunks of
 * at most `chunkBytes` (default 4 MiB), with the length and the SHA-256 of the bytes in the head.
 */
export function bytesCodec<S, H extends Document = Document>(opts: {
  format: number;
  sequence(state: S): number;
  encode(state: S): Promise<Buffer>;
  decode(bytes: Buffer): Promise<S>;
  /** more of the head (e.g. counts for log lines) */
  head?(state: S): H;
  chunkBytes?: number;
}): SnapshotCodec<S, { data: Binary }, H & { bytes: number; sha256: string }> {
  const size = opts.chunkBytes ?? 4 * 1024 * 1024;
  return {
    format: opts.format,
    sequence: opts.sequence,
    async encode(state) {
      const bytes = await opts.encode(state);
      const count = Math.max(1, Math.ceil(bytes.length / size));
      const chunks = Array.from({ length: count }, (_, i) => ({ data: new Binary(bytes.subarray(i * size, (i + 1) * size)) }));
      return { chunks, head: { ...(opts.head?.(state) as H), bytes: bytes.length, sha256: sha256(bytes) } };
    },
    async decode(chunks, head) {
      const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c.data.buffer)));
      if (bytes.length !== head.bytes || sha256(bytes) !== head.sha256) throw new Error('checksum mismatch');
      return opts.decode(bytes);
    },
  };
}
