import type { Db } from 'mongodb';
import type { JetStreamClient, JetStreamManager } from 'nats';
import type { CatalogueEvent, DomainEvent, Naming } from '@app/contracts';
import {
  mongoCheckpoint,
  replayDeadLetters,
  runLeasedProjection,
  type ConsumerMetrics,
  type Progress,
  type Rejected,
  type ReplayDeadLettersResult,
  type StreamEvent,
} from '@app/event-store';
import { projectEvent, type StoredEntry } from '../entries/audit-entry.mapper';
import { applyToMap, referencedIds, type DirectoryRecord, type DirectoryUpdate } from '../entries/directory';
import { AUDIT_PROJECTION, directoryCollection, insertEntries } from './audit.projection';
import { DirectoryCache, type ChangedRecords } from './directory-cache';
import type { Lease } from './lease';

export interface LiveProjectionOptions {
  db: Db;
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  lease: Lease;
  /** events applied per batch at most */
  maxBatch?: number;
  /** how often the lease is renewed (and looked for by standby replicas) */
  renewEveryMs?: number;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  onDeadLetter?: () => void;
  /** the process's metrics (the projection's lag while this replica holds the lease) */
  metrics?: ConsumerMetrics;
  onEntries?: (n: number) => void;
  /** an extra contract check before an event is mapped (none by default: consumeEvents checked it against the catalogue); tests pass an older one */
  check?: (event: DomainEvent) => void;
  /** directory records kept in memory by the lease holder (all of them when there are fewer) */
  directoryCacheMax?: number;
}

export interface LiveProjection extends Progress {
  /** stops after the batch being applied, waiting at most `graceMs` (default 5 s) for it */
  stop(graceMs?: number): Promise<void>;
}

/** The audit projection's checkpoint (`projection_checkpoints`, `_id: audit-log`); a rebuild resets it. */
export const auditCheckpoint = (db: Db) => mongoCheckpoint(db, AUDIT_PROJECTION);
export const readCheckpoint = (db: Db): Promise<number> => auditCheckpoint(db).read();

/**
 * The live audit projection, in batches, on the shared consumer (`consumeEvents`, `ordered` mode). The replica
 * holding the lease reads the events stream from the checkpoint on and applies whatever has arrived (up to
 * `maxBatch` events) at once: the directory records it needs (from memory; one read for those not cached),
 * the mapping in memory in stream order, one unordered bulk insert of the entries, the changed directory
 * records; the consumer then dead-letters what could not be mapped and writes the checkpoint. A failed write is
 * retried until it succeeds (the database is what failed: nothing is dead-lettered for it); an event that
 * cannot be decoded, is not valid against the contract or has no mapping is published to `dlq.audit-log` and
 * counted, and the projection goes on. Entry ids are deterministic, so re-applying a batch after a crash adds
 * nothing. Losing the lease (a renewal every `renewEveryMs`, and one before each write) stops the consumer;
 * the replica then waits for the lease again.
 */
export function startLiveProjection(options: LiveProjectionOptions): LiveProjection {
  const { db } = options;
  const directory = new DirectoryCache(db, options.directoryCacheMax ?? 500_000);

  /** Pure part of a batch: the entries and directory updates to write, and the events that cannot be mapped. */
  async function compute(batch: StreamEvent[]): Promise<{ entries: StoredEntry[]; records: ChangedRecords; rejected: Rejected[] }> {
    // consumeEvents has checked every event against the catalogue; `check` is a test's stricter or older contract
    const check = options.check ?? (() => undefined);
    const rejected: Rejected[] = [];
    const valid = batch.filter((e): e is StreamEvent & { event: CatalogueEvent } => {
      if (!e.event) return false; // could not be decoded: the consumer dead-letters it
      try {
        check(e.event);
        return true;
      } catch (err) {
        rejected.push({ sequence: e.sequence, reason: (err as Error).message });
        return false;
      }
    });
    const ids = new Set<string>();
    for (const e of valid) for (const id of referencedIds(e.event)) ids.add(id);
    const dir = await directory.load(ids);
    const entries: StoredEntry[] = [];
    const updates: DirectoryUpdate[] = [];
    for (const e of valid) {
      try {
        const r = projectEvent(e.event, dir, e.sequence);
        applyToMap(dir, r.updates);
        entries.push(...r.entries);
        updates.push(...r.updates);
      } catch (err) {
        rejected.push({ sequence: e.sequence, reason: (err as Error).message });
      }
    }
    return { entries, records: directory.changed(dir, updates), rejected };
  }

  return runLeasedProjection({
    name: AUDIT_PROJECTION,
    db,
    js: options.js,
    jsm: options.jsm,
    naming: options.naming,
    lease: options.lease,
    onLeader: () => directory.reset(),
    maxBatch: options.maxBatch ?? 1000,
    maxDeliver: Infinity,
    renewEveryMs: options.renewEveryMs,
    logger: options.logger,
    onDeadLetter: options.onDeadLetter,
    metrics: options.metrics,
    async apply(batch) {
      const { entries, records, rejected } = await compute(batch);
      for (let i = 0; i < entries.length; i += 1000) await insertEntries(db, entries.slice(i, i + 1000));
      await directory.write(records);
      directory.commit(records);
      options.onEntries?.(entries.length);
      return rejected;
    },
  });
}

/**
 * Re-feeds the audit projection's dead letters (`dlq.audit-log`) after a fix (`npm run dlq:replay -- audit-log`):
 * each is checked and mapped as the live projection would have at its place in the stream (its entries get the
 * same ids and sort keys), its entries inserted (duplicates ignored, so a second replay adds nothing), and it is
 * removed from the dead-letter stream; one that still fails stays there. The directory is only completed, never
 * rolled back: records (or a user's name or managing organization) that later events have already written are
 * left as they are. The caller stops the live projection meanwhile (it caches the directory).
 */
export function replayAuditDeadLetters(options: {
  db: Db;
  jsm: JetStreamManager;
  naming: Naming;
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  check?: (event: DomainEvent) => void;
}): Promise<ReplayDeadLettersResult> {
  const { db } = options;
  return replayDeadLetters({
    name: AUDIT_PROJECTION,
    jsm: options.jsm,
    naming: options.naming,
    logger: options.logger,
    async apply(event, ctx) {
      options.check?.(event); // replayDeadLetters has checked it against the catalogue
      const dir = new Map<string, DirectoryRecord>();
      for (const r of await directoryCollection(db)
        .find({ _id: { $in: referencedIds(event) } })
        .toArray())
        dir.set(r._id, r);
      const { entries, updates } = projectEvent(event, dir, ctx.sequence);
      await insertEntries(db, entries);
      const idOf = (u: DirectoryUpdate) => (u.op === 'name' ? u.id : u.userId);
      const missing = updates.filter((u) => {
        const r = dir.get(idOf(u));
        return !r || (u.op === 'name' && r.name === undefined) || (u.op === 'managed' && r.managedBy === undefined);
      });
      const touched = new Map<string, DirectoryRecord>();
      for (const u of missing) touched.set(idOf(u), { ...(dir.get(idOf(u)) ?? { _id: idOf(u) }) });
      applyToMap(touched, missing);
      for (const r of touched.values()) await directoryCollection(db).replaceOne({ _id: r._id }, r, { upsert: true });
    },
  });
}
