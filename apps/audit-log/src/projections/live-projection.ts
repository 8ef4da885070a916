import type { Db } from 'mongodb';
import { DeliverPolicy, JSONCodec, headers, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import { allEventsSubject, deadLetterSubject, eventsStreamName, type DomainEvent } from '@app/contracts';
import { CHECKPOINTS, deadLetterLogFields, replayDeadLetters, type ReplayDeadLettersResult } from '@app/event-store';
import { projectEvent, type StoredEntry } from '../entries/audit-entry.mapper';
import { applyToMap, referencedIds, type DirectoryRecord, type DirectoryUpdate } from '../entries/directory';
import { AUDIT_PROJECTION, assertValid, directoryCollection, insertEntries } from './audit.projection';
import { DirectoryCache, type ChangedRecords } from './directory-cache';
import type { Lease } from './lease';

const codec = JSONCodec<DomainEvent>();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export interface LiveProjectionOptions {
  db: Db;
  js: JetStreamClient;
  lease: Lease;
  /** events applied per batch at most */
  maxBatch?: number;
  /** how often the lease is renewed (and looked for by standby replicas) */
  renewEveryMs?: number;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  onDeadLetter?: () => void;
  onEntries?: (n: number) => void;
  /** the contract check of an event before it is mapped (default: the event catalogue's schemas); tests replace it */
  check?: (event: DomainEvent) => void;
  /** directory records kept in memory by the lease holder (all of them when there are fewer) */
  directoryCacheMax?: number;
}

export interface LiveProjection {
  /** highest stream sequence handled by this process */
  position(): number;
  stop(): Promise<void>;
}

interface CheckpointDocument {
  _id: string;
  sequence: number;
  updatedAt: Date;
}

export const readCheckpoint = async (db: Db): Promise<number> =>
  (await db.collection<CheckpointDocument>(CHECKPOINTS).findOne({ _id: AUDIT_PROJECTION }))?.sequence ?? 0;

export async function writeCheckpoint(db: Db, sequence: number): Promise<void> {
  await db.collection<CheckpointDocument>(CHECKPOINTS).updateOne({ _id: AUDIT_PROJECTION }, { $set: { sequence, updatedAt: new Date() } }, { upsert: true });
}

const STOP_GRACE_MS = 5000;

/**
 * The live audit projection, in batches. The replica holding the lease reads the events stream with an
 * ordered consumer from the checkpoint on, and applies whatever has arrived (up to `maxBatch` events) at
 * once: the directory records it needs (from memory; one read for those not cached), the mapping in memory
 * in stream order, one unordered bulk insert of the entries, the changed directory records, then the
 * checkpoint. A failed write is
 * retried (the same computed batch, so the result does not change); an event that cannot be decoded, is
 * not valid against the contract or has no mapping is published to `dlq.audit-log` and counted, and the
 * projection goes on. Entry ids are deterministic, so re-applying a batch after a crash adds nothing.
 */
export function startLiveProjection(options: LiveProjectionOptions): LiveProjection {
  const { db, js, lease } = options;
  const maxBatch = options.maxBatch ?? 1000;
  const renewEveryMs = options.renewEveryMs ?? 5000;
  let position = 0;
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let wakeStop: (() => void) | undefined;
  const stoppedSignal = new Promise<void>((r) => (wakeStop = r));
  const directory = new DirectoryCache(db, options.directoryCacheMax ?? 500_000);

  async function deadLetter(m: JsMsg, event: DomainEvent | undefined, reason: string): Promise<void> {
    const h = headers();
    h.set('Original-Subject', m.subject);
    h.set('Original-Sequence', String(m.seq));
    h.set('Error', reason.slice(0, 500));
    await js.publish(deadLetterSubject(AUDIT_PROJECTION), m.data, { headers: h, msgID: `${AUDIT_PROJECTION}:${m.seq}` });
    options.logger?.error(deadLetterLogFields(AUDIT_PROJECTION, m.seq, event, reason), 'event dead-lettered');
    options.onDeadLetter?.();
  }

  /** Pure part of a batch (plus dead letters): the entries and directory updates to write. */
  async function compute(batch: JsMsg[]): Promise<{ entries: StoredEntry[]; updates: DirectoryUpdate[]; records: ChangedRecords }> {
    const check = options.check ?? assertValid;
    const decoded: Array<{ m: JsMsg; event?: DomainEvent; error?: string; raw?: DomainEvent }> = batch.map((m) => {
      let raw: DomainEvent | undefined;
      try {
        raw = codec.decode(m.data);
        check(raw);
        return { m, event: raw };
      } catch (err) {
        return { m, raw, error: (err as Error).message };
      }
    });
    const ids = new Set<string>();
    for (const d of decoded) if (d.event) for (const id of referencedIds(d.event)) ids.add(id);
    const dir = await directory.load(ids);
    const entries: StoredEntry[] = [];
    const updates: DirectoryUpdate[] = [];
    for (const d of decoded) {
      if (d.event) {
        try {
          const r = projectEvent(d.event, dir, d.m.seq);
          applyToMap(dir, r.updates);
          entries.push(...r.entries);
          updates.push(...r.updates);
          continue;
        } catch (err) {
          d.error = (err as Error).message;
        }
      }
      await deadLetter(d.m, d.event ?? d.raw, d.error ?? 'unknown');
    }
    return { entries, updates, records: directory.changed(dir, updates) };
  }

  let lastRenew = 0;
  async function holdLease(): Promise<boolean> {
    if (Date.now() - lastRenew < renewEveryMs) return true;
    const held = await lease.acquire();
    if (held) lastRenew = Date.now();
    return held;
  }

  async function applyBatch(batch: JsMsg[]): Promise<void> {
    const fresh = batch.filter((m) => m.seq > position);
    if (!fresh.length) return;
    const { entries, records } = await compute(fresh);
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await holdLease())) throw new LeaseLost();
        for (let i = 0; i < entries.length; i += 1000) await insertEntries(db, entries.slice(i, i + 1000));
        await directory.write(records);
        await writeCheckpoint(db, fresh[fresh.length - 1].seq);
        break;
      } catch (err) {
        if (err instanceof LeaseLost || stopped) throw err;
        options.logger?.warn({ projection: AUDIT_PROJECTION, attempt, err: (err as Error).message }, 'audit batch failed; retrying');
        await sleep(Math.min(200 * attempt, 5000));
      }
    }
    directory.commit(records);
    position = fresh[fresh.length - 1].seq;
    options.onEntries?.(entries.length);
  }

  /** Reads from the checkpoint on while the lease is held; returns when stopped or the lease is lost. */
  async function runWhileLeader(): Promise<void> {
    position = await readCheckpoint(db);
    await directory.reset();
    const consumer = await js.consumers.get(eventsStreamName(), {
      filterSubjects: allEventsSubject(), // one subject as a string: a list needs NATS 2.10
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: position + 1,
    });
    messages = await consumer.consume({ max_messages: maxBatch });
    const queue: JsMsg[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    let resumeReader: (() => void) | undefined;
    const reader = (async () => {
      try {
        for await (const m of messages!) {
          queue.push(m);
          wake?.();
          if (queue.length >= maxBatch * 4) await new Promise<void>((r) => (resumeReader = r));
        }
      } finally {
        ended = true;
        wake?.();
      }
    })();
    try {
      while (!stopped) {
        if (!queue.length) {
          if (ended) break;
          await Promise.race([new Promise<void>((r) => (wake = r)), sleep(renewEveryMs)]);
          wake = undefined;
          if (!queue.length && !(await holdLease())) throw new LeaseLost();
          continue;
        }
        const batch = queue.splice(0, maxBatch);
        resumeReader?.();
        resumeReader = undefined;
        await applyBatch(batch);
      }
    } finally {
      await messages.close().catch(() => undefined);
      resumeReader?.();
      await reader.catch(() => undefined);
      messages = undefined;
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        if (await lease.acquire()) {
          lastRenew = Date.now();
          await runWhileLeader();
        } else await Promise.race([sleep(renewEveryMs), stoppedSignal]);
      } catch (err) {
        if (stopped) break;
        if (!(err instanceof LeaseLost)) options.logger?.error({ projection: AUDIT_PROJECTION, err: (err as Error).message }, 'audit projection stopped; restarting');
        await Promise.race([sleep(1000), stoppedSignal]);
      }
    }
  })();

  return {
    position: () => position,
    /**
     * Stops after the batch being applied, waiting at most `STOP_GRACE_MS` for it: a batch on a slow database
     * (hundreds of events after an account batch, on FerretDB) must not hold up a shutdown for minutes. A batch
     * left unfinished is not checkpointed and keeps the lease until it expires, so the next leader applies it
     * again (entry ids are deterministic: nothing twice).
     */
    async stop() {
      stopped = true;
      wakeStop?.();
      await messages?.close().catch(() => undefined);
      const finished = await Promise.race([loop.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
      if (finished) await lease.release();
    },
  };
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
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  check?: (event: DomainEvent) => void;
}): Promise<ReplayDeadLettersResult> {
  const { db } = options;
  return replayDeadLetters({
    name: AUDIT_PROJECTION,
    jsm: options.jsm,
    logger: options.logger,
    async apply(event, ctx) {
      (options.check ?? assertValid)(event);
      const dir = new Map<string, DirectoryRecord>();
      for (const r of await directoryCollection(db).find({ _id: { $in: referencedIds(event) } }).toArray()) dir.set(r._id, r);
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

class LeaseLost extends Error {
  constructor() {
    super('the audit projection lease is held by another replica');
  }
}
