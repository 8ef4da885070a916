import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Db } from 'mongodb';
import {
  bytesCodec,
  chunkedSnapshotStore,
  gunzipLines,
  gzipLines,
  type SnapshotHead as StoredHead,
  type SnapshotSchedule,
  type StreamIdentity,
} from '@app/event-store';
import type { AccessViewSnapshot } from './access-view';
import type { OrgAccessSnapshot } from '@app/access-model';

export type { SnapshotSchedule, StreamIdentity };

/**
 * Snapshots of the authorization view in the service's MongoDB, so a replica starts from the newest one and
 * consumes only the events stream after it (docs/authorization.md, "Snapshots"), in the shared chunked store
 * (`chunkedSnapshotStore`, libs/event-store).
 *
 * Encoding (format 2): UTF-8 lines, gzip'ed — a header `{"format":2,"sequence":S,"orgs":N}`, then one
 * `OrgAccessSnapshot` per line (format 1, before bindings moved to membership, held less of each organization:
 * such a snapshot is skipped and the view replayed from the stream). The bytes are stored in chunks of at most
 * 4 MiB (`view_snapshot_chunks`), then a head (`view_snapshots`) with the format, the sequence, the stream, the
 * chunk count, the organizations, the length and the SHA-256 of the bytes.
 */
export const SNAPSHOT_FORMAT = 2;

export type SnapshotHead = StoredHead<{ orgs: number; bytes: number; sha256: string }>;

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
  return gzipLines(lines);
}

/** The snapshot in `bytes`; throws on anything that is not a complete snapshot of this format. */
export async function decodeSnapshot(bytes: Buffer): Promise<AccessViewSnapshot> {
  const lines = await gunzipLines(bytes);
  const header = JSON.parse(lines[0]) as { format: number; sequence: number; orgs: number };
  if (header.format !== SNAPSHOT_FORMAT) throw new Error(`unknown snapshot format ${header.format}`);
  if (lines.length - 1 !== header.orgs) throw new Error(`snapshot holds ${lines.length - 1} organizations, its header says ${header.orgs}`);
  const orgs = lines.slice(1).map((l) => JSON.parse(l) as OrgAccessSnapshot);
  return { sequence: header.sequence, orgs };
}

export type SnapshotStore = ReturnType<typeof snapshotStore>;

export function snapshotStore(db: Db, opts: { chunkBytes?: number } = {}) {
  return chunkedSnapshotStore(db, {
    name: 'authorization view',
    heads: 'view_snapshots',
    chunks: 'view_snapshot_chunks',
    codec: bytesCodec({
      format: SNAPSHOT_FORMAT,
      sequence: (s: AccessViewSnapshot) => s.sequence,
      encode: encodeSnapshot,
      decode: decodeSnapshot,
      head: (s) => ({ orgs: s.orgs.length }),
      chunkBytes: opts.chunkBytes,
    }),
  });
}

/** Authorization's schedule (docs/authorization.md, "Snapshots of the view"). */
export const DEFAULT_SNAPSHOT_SCHEDULE: SnapshotSchedule = { everyEvents: 10_000, everyMs: 60_000, checkEveryMs: 1_000 };
