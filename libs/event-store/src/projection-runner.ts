import type { Collection, Db } from 'mongodb';
import {
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  headers,
  nanos,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from 'nats';
import { deadLetterStreamName, deadLetterSubject, eventsStreamName, type DomainEvent } from '@app/contracts';
import { CHECKPOINTS } from './commit';
import { noUpcasters, type UpcasterRegistry } from './upcasters';

export interface ProjectionContext {
  /** JetStream stream sequence of the message: a global, gap-free order of all events */
  sequence: number;
  /** how many times this message has been delivered (1 the first time) */
  deliveries: number;
}

export interface ProjectionOptions {
  name: string;
  db: Db;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** subjects to consume, e.g. `evt.>` */
  filterSubjects: string[];
  /** must be idempotent: the same event applied twice leaves the same state */
  apply: (event: DomainEvent, ctx: ProjectionContext) => Promise<void>;
  /** deliveries before an event is sent to the dead-letter subject */
  maxDeliver?: number;
  upcasters?: UpcasterRegistry;
  /**
   * How long JetStream waits for the ack of a delivered event before delivering it again (default 5 s; the
   * runner says "still working" while an apply takes longer). With one unacknowledged event at a time this is
   * also how long the projection stalls when an ack is lost, e.g. when the broker restarts mid-apply.
   */
  ackWaitMs?: number;
  batchSize?: number;
  /** delay before a failed event is redelivered */
  retryDelayMs?: number;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  onDeadLetter?: (event: unknown, error: string) => void;
}

interface CheckpointDocument {
  _id: string;
  sequence: number;
  updatedAt: Date;
}

const codec = JSONCodec();
/** Longest time one apply may keep its event from being delivered elsewhere. */
const STILL_WORKING_MAX_MS = 120_000;

export interface RunningProjection {
  /** highest stream sequence applied (or dead-lettered) so far */
  position(): number;
  /** resolves once everything up to `sequence` has been handled */
  waitFor(sequence: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs a projection from a durable JetStream consumer with explicit acks. Every event is applied, then its
 * sequence is checkpointed in MongoDB and the message acked. A redelivered message at or below the
 * checkpoint is acked without being applied again. A failed event is nak'd and retried before any later
 * one (one message in flight); after `maxDeliver` tries it is published to `dlq.<name>` and acked, so the
 * events after it keep flowing. Replicas running the same projection share its durable consumer and still
 * get one event at a time, in order (a failover, not a way to apply events in parallel).
 */
export async function runProjection(options: ProjectionOptions): Promise<RunningProjection> {
  const { name, db, js, jsm, apply } = options;
  const maxDeliver = options.maxDeliver ?? 5;
  const ackWaitMs = options.ackWaitMs ?? 5000;
  const upcasters = options.upcasters ?? noUpcasters;
  const stream = eventsStreamName();
  const checkpoints: Collection<CheckpointDocument> = db.collection<CheckpointDocument>(CHECKPOINTS);

  // One unacknowledged message at a time: JetStream hands out the next event only once the previous one is
  // acked, so a retried (nak'd) event, or one left unacked by a crashed or stopped process, comes back before
  // anything after it. Events are applied strictly in stream order, and "at or below the checkpoint" really
  // means "already handled" (with more in flight, a later event could pass the checkpoint first and the
  // earlier one would be skipped when it came back, i.e. lost).
  const config = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: 1,
    ...(options.filterSubjects.length === 1
      ? { filter_subject: options.filterSubjects[0] }
      : { filter_subjects: options.filterSubjects }),
  };
  const existing = await jsm.consumers.info(stream, name).catch(() => undefined);
  if (!existing) await jsm.consumers.add(stream, config);
  else if (existing.config.max_ack_pending !== config.max_ack_pending || existing.config.ack_wait !== config.ack_wait)
    await jsm.consumers.update(stream, name, { max_ack_pending: config.max_ack_pending, ack_wait: config.ack_wait });

  let position = (await checkpoints.findOne({ _id: name }))?.sequence ?? 0;
  const waiters = new Set<{ seq: number; resolve: () => void }>();
  /** checkpoint first, then the in-memory position: whoever sees the position also finds the checkpoint */
  const advance = async (seq: number) => {
    if (seq <= position) return;
    await checkpoints.updateOne({ _id: name }, { $max: { sequence: seq }, $set: { updatedAt: new Date() } }, { upsert: true });
    position = seq;
    for (const w of waiters) {
      if (w.seq > position) continue;
      waiters.delete(w);
      w.resolve();
    }
  };

  async function handle(msg: JsMsg): Promise<void> {
    const seq = msg.info.streamSequence;
    const deliveries = msg.info.deliveryCount;
    if (seq <= position) return msg.ack(); // redelivery of something already applied
    let event: unknown;
    // a slow apply (a busy database) is not taken for a lost one: "in progress" restarts the ack wait; not for
    // ever, so that an apply that hangs lets another replica have the event
    const since = Date.now();
    const working = setInterval(() => {
      try {
        if (Date.now() - since < STILL_WORKING_MAX_MS) msg.working();
      } catch {
        // connection closed: the event comes back to whoever consumes next
      }
    }, ackWaitMs / 3).unref();
    try {
      event = codec.decode(msg.data);
      await apply(upcasters.upcast(event as DomainEvent), { sequence: seq, deliveries });
      await advance(seq);
      msg.ack();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (deliveries >= maxDeliver) {
        const h = headers();
        h.set('Original-Subject', msg.subject);
        h.set('Original-Sequence', String(seq));
        h.set('Error', reason.slice(0, 500));
        await js.publish(deadLetterSubject(name), msg.data, { headers: h, msgID: `${name}:${seq}` });
        options.logger?.error(deadLetterLogFields(name, seq, event, reason), 'event dead-lettered');
        options.onDeadLetter?.(event, reason);
        await advance(seq);
        msg.ack();
      } else {
        options.logger?.warn({ projection: name, seq, deliveries, err: reason }, 'projection failed; will retry');
        msg.nak(options.retryDelayMs ?? 200 * deliveries);
      }
    } finally {
      clearInterval(working);
    }
  }

  const consumer = await js.consumers.get(stream, name);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: options.batchSize ?? 200 });
  let stopping = false;
  const loop = (async () => {
    try {
      for await (const msg of messages) {
        // stopped: what was fetched but not applied stays unacknowledged and comes back to the next consumer
        // (closing the iterator alone let it apply everything already fetched, minutes of a busy backlog)
        if (stopping) break;
        try {
          await handle(msg);
        } catch (err) {
          // left unacked: JetStream delivers it again after the ack wait, before anything after it
          options.logger?.error({ projection: name, err: (err as Error).message }, 'could not settle message');
        }
      }
    } catch (err) {
      options.logger?.error({ projection: name, err: (err as Error).message }, 'projection stopped consuming');
    }
  })();

  return {
    position: () => position,
    waitFor(sequence, timeoutMs = 10_000) {
      if (sequence <= position) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const w = { seq: sequence, resolve: () => (clearTimeout(t), resolve()) };
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`projection ${name} did not reach ${sequence} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    async stop() {
      stopping = true;
      await messages.close();
      await loop;
    },
  };
}

/**
 * What the error line of a dead-lettered event says: the projection, the event's id, type and stream
 * sequence and why (short). Never the event's data: an alert, not a copy of the event.
 */
export function deadLetterLogFields(projection: string, seq: number, event: unknown, reason: string): Record<string, unknown> {
  const e = (event ?? {}) as { id?: unknown; type?: unknown; version?: unknown };
  return {
    projection,
    seq,
    eventId: typeof e.id === 'string' ? e.id.slice(0, 64) : null,
    eventType: typeof e.type === 'string' ? `${e.type.slice(0, 100)}.v${String(e.version)}` : null,
    reason: reason.slice(0, 300),
  };
}

export interface ReplayDeadLettersOptions {
  /** the projection whose dead letters (`dlq.<name>`) are replayed */
  name: string;
  jsm: JetStreamManager;
  /** the projection's apply (idempotent), given the event's original stream sequence */
  apply: (event: DomainEvent, ctx: ProjectionContext) => Promise<void>;
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
  const { name, jsm } = options;
  const stream = deadLetterStreamName();
  const subject = deadLetterSubject(name);
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
      await options.apply(upcasters.upcast(event as DomainEvent), { sequence, deliveries: 1 });
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
