import type { Db } from 'mongodb';
import { JSONCodec, type JetStreamClient, type JetStreamManager } from 'nats';
import { catalogueEvent, deadLetterStreamName, deadLetterSubject, type CatalogueEvent, type DomainEvent, type Naming } from '@app/contracts';
import { CHECKPOINTS } from './commit';
import { upsertAgainIfRaced } from './errors';
import { consumeEvents, deadLetterLogFields, type Checkpoint, type ConsumerLogger, type ConsumerMetrics, type EventConsumer } from './consumer';
import { noUpcasters, type UpcasterRegistry } from './upcasters';

const codec = JSONCodec();

export interface ProjectionContext {
  /** JetStream stream sequence of the message: a global, gap-free order of all events */
  sequence: number;
  /** how many times this event has been tried (1 the first time) */
  deliveries: number;
}

export interface ProjectionOptions {
  name: string;
  db: Db;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** the namespace of the streams and subjects (the service's configuration) */
  naming: Naming;
  /** subjects to consume (as the code names them), e.g. `evt.>` */
  filterSubjects: string[];
  /** must be idempotent: the same event applied twice leaves the same state */
  apply: (event: CatalogueEvent, ctx: ProjectionContext) => Promise<void>;
  /** tries before an event is sent to the dead-letter subject */
  maxDeliver?: number;
  upcasters?: UpcasterRegistry;
  /** see `ConsumeOptions.ackWaitMs` (default 5 s) */
  ackWaitMs?: number;
  /** the n-th retry of a failed event waits n × this (default 200 ms) */
  retryDelayMs?: number;
  logger?: ConsumerLogger;
  onDeadLetter?: (event: unknown, error: string) => void;
  /** the process's metrics (lag per projection) */
  metrics?: ConsumerMetrics;
}

export type RunningProjection = EventConsumer;

interface CheckpointDocument {
  _id: string;
  sequence: number;
  updatedAt: Date;
}

/**
 * The checkpoint of consumer `name` in `projection_checkpoints`. `write` keeps the highest sequence (`$max`), so
 * a late write of a replica that was overtaken never moves it back; `reset` sets it (a rebuild).
 */
export function mongoCheckpoint(db: Db, name: string): Checkpoint & { reset(sequence: number): Promise<void> } {
  const checkpoints = db.collection<CheckpointDocument>(CHECKPOINTS);
  return {
    read: async () => (await checkpoints.findOne({ _id: name }))?.sequence ?? 0,
    // replicas of a durable projection may write its first checkpoint at once (upsertAgainIfRaced)
    async write(sequence) {
      await upsertAgainIfRaced(() => checkpoints.updateOne({ _id: name }, { $max: { sequence }, $set: { updatedAt: new Date() } }, { upsert: true }));
    },
    async reset(sequence) {
      await upsertAgainIfRaced(() => checkpoints.updateOne({ _id: name }, { $set: { sequence, updatedAt: new Date() } }, { upsert: true }));
    },
  };
}

/**
 * A read model kept in MongoDB by a durable consumer (`consumeEvents` in `durable` mode) with its checkpoint in
 * `projection_checkpoints`: every event is applied, its sequence checkpointed, then acked; a redelivery at or
 * below the checkpoint is acked without applying; a failed event is retried before any later one and after
 * `maxDeliver` tries published to `dlq.<name>`, so the events after it keep flowing. Replicas share the durable
 * consumer and still get one event at a time, in order (a failover, not a way to apply events in parallel); a
 * read-your-writes wait on it (`waitUntilApplied`) also reads the shared checkpoint.
 */
export function runProjection(options: ProjectionOptions): Promise<RunningProjection> {
  return consumeEvents({
    name: options.name,
    js: options.js,
    jsm: options.jsm,
    naming: options.naming,
    mode: 'durable',
    subjects: options.filterSubjects,
    checkpoint: mongoCheckpoint(options.db, options.name),
    upcasters: options.upcasters,
    maxDeliver: options.maxDeliver,
    ackWaitMs: options.ackWaitMs,
    retryDelayMs: options.retryDelayMs,
    logger: options.logger,
    onDeadLetter: options.onDeadLetter,
    metrics: options.metrics,
    async apply(events) {
      for (const { event, sequence, deliveries } of events) if (event) await options.apply(event, { sequence, deliveries });
    },
  });
}

export interface ReplayDeadLettersOptions {
  /** the projection whose dead letters (`dlq.<name>`) are replayed */
  name: string;
  jsm: JetStreamManager;
  naming: Naming;
  /** the projection's apply (idempotent), given the event's original stream sequence */
  apply: (event: CatalogueEvent, ctx: ProjectionContext) => Promise<void>;
  upcasters?: UpcasterRegistry;
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface ReplayDeadLettersResult {
  /** applied and removed from the dead-letter stream */
  replayed: number;
  /** failed again: left in the dead-letter stream */
  failed: number;
}

/**
 * Re-feeds the dead letters of a projection through its `apply` after a fix, oldest first, with their original
 * stream sequence: each one applied is deleted from the dead-letter stream, each one that fails again is left
 * there (and logged). Safe to run twice: `apply` is idempotent, and a dead letter applied is gone. The caller
 * makes sure nothing else writes the projection's state meanwhile when that matters.
 */
export async function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<ReplayDeadLettersResult> {
  const { name, jsm, naming } = options;
  const stream = deadLetterStreamName(naming);
  const subject = naming.subject(deadLetterSubject(name));
  const upcasters = options.upcasters ?? noUpcasters;
  const result: ReplayDeadLettersResult = { replayed: 0, failed: 0 };
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  let waiting = info.state.subjects?.[subject] ?? 0;
  // the dead-letter stream is small: read it by sequence (those of other projections are skipped)
  for (let seq = info.state.first_seq; waiting > 0 && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined); // deleted meanwhile
    if (!m || m.subject !== subject) continue;
    waiting--;
    let event: unknown;
    try {
      event = codec.decode(m.data);
      const sequence = Number(m.header?.get('Original-Sequence') ?? 0);
      await options.apply(catalogueEvent(upcasters.upcast(event as DomainEvent)), { sequence, deliveries: 1 });
    } catch (err) {
      result.failed++;
      options.logger?.warn(deadLetterLogFields(name, seq, event, (err as Error).message ?? String(err)), 'dead letter failed again; kept');
      continue;
    }
    await jsm.streams.deleteMessage(stream, seq);
    result.replayed++;
  }
  options.logger?.info({ projection: name, ...result }, 'dead letters replayed');
  return result;
}
