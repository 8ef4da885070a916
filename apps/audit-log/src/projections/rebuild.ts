import { setTimeout as delay } from 'node:timers/promises';
import type { Collection, Db } from 'mongodb';
import { DeliverPolicy, JSONCodec, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import { allEventsSubject, catalogueEvent, eventsStreamName, type DomainEvent, type Naming, type RebuildReply } from '@app/contracts';
import { publishDeadLetter } from '@app/event-store';
import { projectEvent, type StoredEntry } from '../entries/audit-entry.mapper';
import { applyToMap, type DirectoryRecord } from '../entries/directory';
import { AUDIT_PROJECTION, directoryCollection, ensureAuditIndexes, entriesCollection, insertEntries } from './audit.projection';
import { auditCheckpoint } from './live-projection';

const codec = JSONCodec<DomainEvent>();

export interface RebuildOptions {
  db: Db;
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  /** entries per bulk insert */
  batchSize?: number;
  /** bulk inserts in flight at once */
  concurrency?: number;
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  onDeadLetter?: () => void;
}

/**
 * Drops the projection (entries, directory, checkpoint) and replays the events stream from
 * sequence 1 up to its last sequence as of the start, with the same pure mapping as the live projection, so
 * it writes the same entries with the same ids. The directory is kept in memory and entries are written with
 * unordered bulk inserts, several in flight. The caller must have stopped the live projection (and hold its
 * lease); the checkpoint is left at the last rebuilt sequence, where the live projection takes over. An event
 * that cannot be mapped goes to the dead-letter subject, as in the live projection.
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildReply> {
  const { db, js, jsm, naming } = options;
  const batchSize = options.batchSize ?? 1000;
  const concurrency = options.concurrency ?? 4;
  const started = Date.now();
  const stream = eventsStreamName(naming);

  await auditCheckpoint(db).reset(0);
  await dropCollection(entriesCollection(db));
  await dropCollection(directoryCollection(db));

  const lastSequence = (await jsm.streams.info(stream)).state.last_seq;
  const directory = new Map<string, DirectoryRecord>();
  let events = 0;
  let deadLettered = 0;
  /** entries actually inserted (a re-published event maps to the same ids again: stored once) */
  let stored = 0;

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const flush = async (batch: StoredEntry[]) => {
    if (!batch.length) return;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const p: Promise<void> = insertEntries(db, batch)
      .then((n) => void (stored += n))
      .catch((err) => void (failure = err))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  if (lastSequence > 0) {
    // an ordered (ephemeral, flow-controlled) consumer; one filter subject as a string: a list needs NATS 2.10
    const consumer = await js.consumers.get(stream, {
      filterSubjects: naming.subject(allEventsSubject()),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 1,
    });
    const messages = await consumer.consume({ max_messages: 2000 });
    let batch: StoredEntry[] = [];
    const handle = async (m: JsMsg) => {
      events++;
      let event: DomainEvent | undefined;
      try {
        event = codec.decode(m.data);
        // the rebuild reads the stream itself: its own edge, the same catalogue check as consumeEvents
        const { entries: made, updates } = projectEvent(catalogueEvent(event), directory, m.seq);
        applyToMap(directory, updates);
        batch.push(...made);
      } catch (err) {
        deadLettered++;
        await publishDeadLetter(js, naming, AUDIT_PROJECTION, m, (err as Error).message ?? String(err));
        options.logger?.warn({ seq: m.seq, err: (err as Error).message }, 'rebuild: event sent to the dead-letter subject');
        options.onDeadLetter?.();
      }
      if (batch.length >= batchSize) {
        await flush(batch);
        batch = [];
      }
    };
    for await (const m of messages) {
      if (m.seq <= lastSequence) await handle(m);
      if (m.seq >= lastSequence) break;
    }
    await messages.close();
    await flush(batch);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  const replayed = Date.now();

  const records = [...directory.values()];
  for (let i = 0; i < records.length; i += batchSize) await writeDirectory(db, records.slice(i, i + batchSize));
  const directoryWritten = Date.now();
  await ensureAuditIndexes(db);
  const indexed = Date.now();
  await auditCheckpoint(db).reset(lastSequence);

  const ms = Date.now() - started;
  const reply: RebuildReply = {
    events,
    entries: stored,
    deadLettered,
    lastSequence,
    ms,
    eventsPerSecond: Math.round(events / Math.max(ms / 1000, 0.001)),
    phasesMs: { replay: replayed - started, directory: directoryWritten - replayed, indexes: indexed - directoryWritten },
  };
  options.logger?.info(reply, 'audit log rebuilt');
  return reply;
}

/** MongoDB before 7 and FerretDB answer a drop of a missing collection with this code */
const NAMESPACE_NOT_FOUND = 26;

/**
 * Drops a collection; a missing one is already dropped. A drop that fails is tried again (three tries in all), then
 * its error is thrown: going on would rebuild over the old collection.
 */
export async function dropCollection(collection: Pick<Collection, 'drop'>, tries = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await collection.drop();
      return;
    } catch (err) {
      if ((err as { code?: number }).code === NAMESPACE_NOT_FOUND) return;
      if (attempt >= tries) throw err;
      await delay(100 * attempt);
    }
  }
}

/**
 * The rebuilt directory, written in one unordered insert; a record that exists already was written meanwhile by
 * the live projection's last batch (its stop is bounded: a batch still running after the grace period goes on)
 * and is replaced by the rebuilt one, which folds every event up to the rebuilt sequence.
 */
export async function writeDirectory(db: Db, records: DirectoryRecord[]): Promise<void> {
  try {
    await directoryCollection(db).insertMany(records, { ordered: false });
  } catch (err) {
    const e = err as { code?: number; writeErrors?: Array<{ code: number; index: number }> | { code: number; index: number } };
    const failed = e.writeErrors === undefined ? [] : Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
    if (failed.length === 0 || failed.some((w) => w.code !== 11000)) throw err;
    for (const { index } of failed) await directoryCollection(db).replaceOne({ _id: records[index]._id }, records[index], { upsert: true });
  }
}
