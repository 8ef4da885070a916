import {
  AckPolicy,
  ConsumerDebugEvents,
  ConsumerEvents,
  DeliverPolicy,
  JSONCodec,
  headers,
  nanos,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from 'nats';
import { retryTransient } from '@app/messaging';
import { allEventsSubject, catalogueEvent, deadLetterSubject, eventsStreamName, type CatalogueEvent, type DomainEvent, type Naming } from '@app/contracts';
import { Position, type Progress } from './caught-up';
import { noUpcasters, type UpcasterRegistry } from './upcasters';

/** One message of the events stream as an apply function sees it. */
export interface StreamEvent {
  /** JetStream stream sequence: a global, gap-free order of all events */
  sequence: number;
  /** the event's subject as the code names it (without the namespace prefix) */
  subject: string;
  /**
   * the event (upcast, checked against the event catalogue: typed as its union); undefined when this consumer
   * does not decode its subject, or could not decode or check it (then it is dead-lettered)
   */
  event?: CatalogueEvent;
  /** how many times this event has been tried (1 the first time) */
  deliveries: number;
}

/** An event the apply can never apply (it breaks the contract, has no mapping…): dead-lettered at once, and the stream goes on. */
export interface Rejected {
  sequence: number;
  reason: string;
}

/** Where a consumer keeps the last sequence it applied (e.g. `mongoCheckpoint`). */
export interface Checkpoint {
  read(): Promise<number>;
  write(sequence: number): Promise<void>;
}

export type ConsumerLogger = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

export interface ConsumeOptions {
  /** the consumer's name: durable consumer, dead-letter subject `dlq.<name>`, logs */
  name: string;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** the namespace of the streams and subjects (the service's configuration) */
  naming: Naming;
  /**
   * `durable`: one JetStream durable consumer shared by the replicas, explicit acks, one event unacknowledged at
   * a time (a failover, not parallelism); "in progress" is sent while an apply runs. `ordered`: every process
   * reads the stream itself with an ordered consumer (no acks; it resumes after the last sequence it saw).
   */
  mode: 'durable' | 'ordered';
  /** subjects to consume, as the code names them (default `evt.>`) */
  subjects?: string[];
  /** the last sequence already applied (a snapshot's); default the checkpoint's, else 0 */
  start?: number;
  checkpoint?: Checkpoint;
  /** the position this consumer advances (default a new one); e.g. a view's own, so that waits look at the view */
  progress?: Position;
  /** subjects (as the code names them) whose events are decoded (default all); the others reach `apply` with `event` undefined */
  decode?: (subject: string) => boolean;
  upcasters?: UpcasterRegistry;
  /**
   * Applies consecutive events in stream order (up to `maxBatch`; durable: one). Returns the events it can
   * never apply (dead-lettered at once); throws on a failure worth retrying (the same events are applied again
   * after a delay, so it must be idempotent). A batch that fails `maxDeliver` times is retried one event at a
   * time, and an event that fails `maxDeliver` times on its own is dead-lettered.
   */
  apply(events: StreamEvent[]): Promise<Rejected[] | void> | Rejected[] | void;
  maxBatch?: number;
  /** tries before an event is dead-lettered (default 5; `Infinity`: retried until the consumer stops) */
  maxDeliver?: number;
  /** the n-th retry waits `n × retryDelayMs` (at most 5 s; default 200 ms) */
  retryDelayMs?: number;
  /**
   * durable: how long JetStream waits for an ack before delivering the event again (default 5 s; "in progress"
   * restarts it while an apply runs). With one unacknowledged event at a time this is also how long the
   * projection stalls when an ack is lost, e.g. when the broker restarts mid-apply.
   */
  ackWaitMs?: number;
  /** publish dead letters to `dlq.<name>` (default); false for a view rebuilt from the stream at every start, which would publish them again each time */
  publishDeadLetters?: boolean;
  /** aborting it stops the consumer as `stop(0)` does (e.g. from inside an apply that lost its lease) */
  signal?: AbortSignal;
  logger?: ConsumerLogger;
  /** called once per dead letter (the metric) */
  onDeadLetter?: (event: DomainEvent | undefined, reason: string) => void;
  /** the process's metrics: the consumer's lag is read from it on each scrape while it runs */
  metrics?: ConsumerMetrics;
}

/** How far behind the stream a consumer is. */
export interface ConsumerLag {
  /** the last stream sequence applied */
  applied: number;
  /** events received and not applied yet, plus those the stream holds beyond them (0: caught up) */
  events: number;
  /** how long ago the oldest event received and not applied yet was stored in the stream (0: none waiting) */
  seconds: number;
}

/** Where consumers report themselves (the process's metrics registry implements it; libs import no registry). */
export interface ConsumerMetrics {
  /** `lag` is read on every scrape until the returned function is called (the consumer ended) */
  watch(name: string, lag: () => ConsumerLag): () => void;
}

export interface EventConsumer extends Progress {
  /** events delivered but not applied yet, plus those the stream holds beyond them (0: caught up) */
  pending(): number;
  /** `pending()`, the sequence applied and the age of the oldest event waiting */
  lag(): ConsumerLag;
  /** resolves when the consumer has ended (stopped, aborted, or its subscription failed) */
  readonly done: Promise<void>;
  /**
   * Stops taking events and waits at most `graceMs` (default 5 s) for the batch being applied; true when it
   * finished. A batch left unfinished is not checkpointed (nor acked): it is applied again by whoever consumes next.
   */
  stop(graceMs?: number): Promise<boolean>;
}

const codec = JSONCodec<DomainEvent>();
/** Longest time one apply may keep its event from being delivered elsewhere (durable). */
const STILL_WORKING_MAX_MS = 120_000;
/** how long without a delivery before `pending()` is checked with the server (see `settlePending`) */
const PENDING_RECHECK_MS = 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

class Stopped extends Error {}

interface Decoded {
  m: JsMsg;
  event?: CatalogueEvent;
  /** an event decoded but refused by the catalogue check: only for the dead letter's log line and `onDeadLetter` */
  refused?: DomainEvent;
  /** why it could not be decoded or checked */
  error?: string;
}

/**
 * Watches a consumer: on missed heartbeats (PULL_EXPIRES_MS), or when neither a message nor any word from the
 * server (an expired pull's 408) came for SILENT_MS, it stops the consumer, so that the loop reading it ends and
 * `missed` says why. nats.js would itself look the consumer up and pull again, but an ordered consumer's server
 * side lives on one node: with that node dead, the look-up times out again and again for as long as the node is
 * down; after a reconnection to another node it does the same with its heartbeat watch off. A new consumer, on a
 * node that is up, is what works. `delivered`: when this process last took a message of it.
 */
function stallOf(messages: ConsumerMessages, delivered: () => number): { missed: boolean } {
  const stall = { missed: false };
  let heard = Date.now();
  const give = () => {
    stall.missed = true;
    clearInterval(watch);
    messages.stop();
  };
  const watch = setInterval(() => Date.now() - Math.max(heard, delivered()) > SILENT_MS && give(), PULL_EXPIRES_MS);
  watch.unref();
  void (async () => {
    for await (const s of await messages.status()) {
      if (s.type === ConsumerEvents.HeartbeatsMissed) return give();
      if (s.type !== ConsumerDebugEvents.Next) heard = Date.now();
    }
  })()
    .catch(() => undefined)
    .finally(() => clearInterval(watch));
  return stall;
}

/**
 * How long each pull request of a consumer lasts (nats.js: 30 s). The server sends a heartbeat every half of it
 * while it has nothing to deliver, and two missed heartbeats make the client look the consumer up and pull again
 * (here: make it again, `stallOf`). That is how a consumer whose server side died with a NATS node goes on after
 * seconds, not after 30 s or never, while every read waiting for its view answers 503 (docs/scaling.md "A NATS
 * node dies", test/consumer-failover.e2e-spec.ts). Costs a pull request every 5 s and a heartbeat every 2.5 s per
 * idle consumer.
 */
const PULL_EXPIRES_MS = 5000;
/** how long a consumer may go without a message or a word from the server before it is made again (`stallOf`) */
const SILENT_MS = 3 * PULL_EXPIRES_MS;

/**
 * The one event consumer every projection and view runs on: it reads the events stream in order from where
 * the consumer left off, hands `apply` batches of events, dead-letters what cannot be applied, checkpoints,
 * and reports the sequence it has applied (a `Progress`, for `waitUntilApplied`).
 */
export async function consumeEvents(options: ConsumeOptions): Promise<EventConsumer> {
  const { name, js, jsm, mode, naming } = options;
  const durable = mode === 'durable';
  const stream = eventsStreamName(naming);
  const subjects = (options.subjects ?? [allEventsSubject()]).map(naming.subject);
  const maxBatch = durable ? 1 : Math.max(1, options.maxBatch ?? 1);
  const maxDeliver = options.maxDeliver ?? 5;
  const ackWaitMs = options.ackWaitMs ?? 5000;
  const upcasters = options.upcasters ?? noUpcasters;
  const progress = options.progress ?? new Position();
  progress.advance(options.start ?? (await options.checkpoint?.read()) ?? 0);

  /** the highest stream sequence delivered to this process (applied or queued) */
  let received = 0;
  /** where an ordered consumer made again starts: after what this process has */
  const resumeAfter = () => Math.max(progress.position(), received);
  const open = async (): Promise<ConsumerMessages> =>
    durable
      ? durableMessages(jsm, js, stream, name, subjects, ackWaitMs)
      : (
          await retryTransient(() =>
            js.consumers.get(stream, {
              filterSubjects: subjects.length === 1 ? subjects[0] : subjects,
              opt_start_seq: resumeAfter() + 1,
            }),
          )
        ).consume({ max_messages: Math.max(maxBatch, 200), expires: PULL_EXPIRES_MS });
  let messages = await open();

  let stopping = false;
  let wake: (() => void) | undefined;
  let resumeReader: (() => void) | undefined;
  let interrupt: (() => void) | undefined;
  let ended = false;
  let streamPending = 0;
  const queue: JsMsg[] = [];
  /** the batch being applied (out of the queue) */
  let applying: JsMsg[] = [];

  const halt = () => {
    stopping = true;
    wake?.();
    resumeReader?.();
    interrupt?.();
    void messages.close().catch(() => undefined);
  };
  if (options.signal?.aborted) halt();
  options.signal?.addEventListener('abort', halt, { once: true });

  /** waits `ms`, or less when the consumer stops meanwhile */
  const pause = (ms: number) => Promise.race([sleep(ms), new Promise<void>((r) => (interrupt = r))]).finally(() => (interrupt = undefined));

  const decode = (m: JsMsg): Decoded => {
    if (options.decode && !options.decode(naming.local(m.subject))) return { m };
    let event: DomainEvent;
    try {
      event = upcasters.upcast(codec.decode(m.data));
    } catch (err) {
      return { m, error: `cannot decode: ${(err as Error).message}` };
    }
    // the one contract check of a consumed event, for every consumer alike: what apply gets is typed by the catalogue
    try {
      return { m, event: catalogueEvent(event) };
    } catch (err) {
      return { m, refused: event, error: (err as Error).message };
    }
  };
  const deliveries = (m: JsMsg, attempt: number) => (durable ? m.info.deliveryCount - 1 : 0) + attempt;

  /** Applies, retrying; returns the rejected events, or the reason when it failed `maxDeliver` times. */
  async function tryApply(batch: Decoded[]): Promise<{ rejected: Rejected[] } | { failed: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const events = batch.map((d) => ({ sequence: d.m.seq, subject: naming.local(d.m.subject), event: d.event, deliveries: deliveries(d.m, attempt) }));
        return { rejected: (await options.apply(events)) ?? [] };
      } catch (err) {
        if (stopping) throw new Stopped();
        const reason = (err as Error).message ?? String(err);
        const tries = deliveries(batch[0].m, attempt);
        if (tries >= maxDeliver) return { failed: reason };
        options.logger?.warn({ projection: name, seq: batch[0].m.seq, events: batch.length, deliveries: tries, err: reason }, 'projection failed; will retry');
        await pause(Math.min((options.retryDelayMs ?? 200) * attempt, 5000));
        if (stopping) throw new Stopped();
      }
    }
  }

  /** Retries `work` (dead letters, checkpoint) until it succeeds or the consumer stops. */
  async function settle(work: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (stopping) throw new Stopped();
        options.logger?.error({ projection: name, attempt, err: (err as Error).message }, 'could not settle applied events; retrying');
        await pause(Math.min((options.retryDelayMs ?? 200) * attempt, 5000));
        if (stopping) throw new Stopped();
      }
    }
  }

  async function handle(batch: JsMsg[]): Promise<void> {
    const fresh: Decoded[] = [];
    for (const m of batch) {
      if (m.seq > progress.position()) fresh.push(decode(m));
      else if (durable) m.ack(); // a redelivery of something already applied
    }
    if (!fresh.length) return;
    const outcome = await tryApply(fresh);
    if ('failed' in outcome && fresh.length > 1) {
      for (const d of fresh) await handle([d.m]);
      return;
    }
    const dead = new Map<number, string>(fresh.filter((d) => d.error).map((d) => [d.m.seq, d.error!]));
    if ('failed' in outcome) dead.set(fresh[0].m.seq, outcome.failed);
    else for (const r of outcome.rejected) dead.set(r.sequence, r.reason);
    const last = fresh[fresh.length - 1].m.seq;
    const letters = fresh.filter((d) => dead.has(d.m.seq));
    await settle(async () => {
      if (options.publishDeadLetters !== false) for (const d of letters) await publishDeadLetter(js, naming, name, d.m, dead.get(d.m.seq)!);
      await options.checkpoint?.write(last);
    });
    for (const d of letters) {
      options.logger?.error(deadLetterLogFields(name, d.m.seq, d.event ?? d.refused, dead.get(d.m.seq)!), 'event dead-lettered');
      options.onDeadLetter?.(d.event ?? d.refused, dead.get(d.m.seq)!);
    }
    progress.advance(last);
    if (durable) for (const d of fresh) d.m.ack();
  }

  // A delivered message says how many more the stream holds for the consumer. nats-server has been seen to say
  // one too many on the last one (the snapshot schedules, which wait for pending() to be 0, then never wrote).
  // So after a second with nothing delivered, the server's own count of the consumer replaces that figure
  // (unless a message came meanwhile).
  let lastDeliveryAt = Date.now();
  /** the server-side consumer that delivered the last message (an ordered consumer's is replaced when it resets) */
  let deliveredBy = '';
  let asking = false;
  const settlePending = setInterval(() => {
    if (streamPending === 0 || queue.length > 0 || asking || Date.now() - lastDeliveryAt < PENDING_RECHECK_MS) return;
    const asked = lastDeliveryAt;
    asking = true;
    jsm.consumers
      .info(stream, deliveredBy)
      .then((info) => info.num_pending)
      .then(
        (n) => void (lastDeliveryAt === asked && (streamPending = n)),
        () => undefined,
      )
      .finally(() => (asking = false));
  }, PENDING_RECHECK_MS);
  settlePending.unref();

  const reader = (async () => {
    try {
      while (!stopping) {
        const current = messages;
        const stalled = stallOf(current, () => lastDeliveryAt);
        for await (const m of current) {
          if (stopping) break;
          queue.push(m);
          received = Math.max(received, m.seq);
          streamPending = m.info.pending;
          lastDeliveryAt = Date.now();
          deliveredBy = m.info.consumer;
          wake?.();
          if (queue.length >= maxBatch * 4) await new Promise<void>((r) => (resumeReader = r));
        }
        if (stopping || !stalled.missed) break;
        // the server side stopped answering (its NATS node died?): consume again, from after what was received
        options.logger?.warn({ projection: name, after: resumeAfter() }, 'consumer missed its heartbeats; consuming again');
        for (;;) {
          try {
            messages = await open();
            break;
          } catch (err) {
            if (stopping) return;
            options.logger?.warn({ projection: name, err: (err as Error).message }, 'consuming again failed; retrying');
            await pause(1000);
          }
        }
        if (stopping) await messages.close().catch(() => undefined);
      }
    } finally {
      ended = true;
      wake?.();
    }
  })().catch((err: Error) => options.logger?.error({ projection: name, err: err.message }, 'projection stopped consuming'));

  const done = (async () => {
    try {
      while (!stopping) {
        if (!queue.length) {
          if (ended) break;
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
          continue;
        }
        const batch = (applying = queue.splice(0, maxBatch));
        resumeReader?.();
        resumeReader = undefined;
        // durable: "in progress" restarts the ack wait while this runs, so a slow database is not taken for a
        // lost delivery; not for ever, so that an apply that hangs lets another replica have the event
        const since = Date.now();
        const working = durable
          ? setInterval(() => {
              try {
                if (Date.now() - since < STILL_WORKING_MAX_MS) for (const m of batch) m.working();
              } catch {
                // connection closed: the event comes back to whoever consumes next
              }
            }, ackWaitMs / 3).unref()
          : undefined;
        try {
          await handle(batch);
        } finally {
          applying = [];
          clearInterval(working);
        }
      }
    } catch (err) {
      if (!(err instanceof Stopped)) options.logger?.error({ projection: name, err: (err as Error).message }, 'projection stopped consuming');
    } finally {
      halt();
      clearInterval(settlePending);
      await reader;
    }
  })();

  const pending = () => queue.length + streamPending;
  const lag = (): ConsumerLag => {
    const oldest = applying[0] ?? queue[0];
    const waitingMs = oldest ? Date.now() - oldest.info.timestampNanos / 1e6 : 0;
    return { applied: progress.position(), events: pending() + applying.length, seconds: Math.max(0, waitingMs) / 1000 };
  };
  const unwatch = options.metrics?.watch(name, lag);
  if (unwatch) void done.finally(unwatch);

  return {
    position: () => progress.position(),
    onAdvance: (listener) => progress.onAdvance(listener),
    ...(durable && options.checkpoint ? { shared: () => options.checkpoint!.read() } : {}),
    pending,
    lag,
    done,
    async stop(graceMs = 5000) {
      halt();
      return Promise.race([done.then(() => true), sleep(graceMs).then(() => false)]);
    },
  };
}

/** A durable pull consumer with explicit acks and one unacknowledged message at a time (created or updated). */
async function durableMessages(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: string,
  name: string,
  subjects: string[],
  ackWaitMs: number,
): Promise<ConsumerMessages> {
  // One unacknowledged message at a time: JetStream hands out the next event only once the previous one is
  // acked, so an event left unacked by a crashed or stopped process comes back before anything after it. Events
  // are applied strictly in stream order, and "at or below the position" really means "already handled" (with
  // more in flight, a later event could pass the checkpoint first and the earlier one would be skipped when it
  // came back, i.e. lost).
  const config = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: 1,
    ...(subjects.length === 1 ? { filter_subject: subjects[0] } : { filter_subjects: subjects }),
  };
  // asked again on a transient JetStream error: at start on a fresh cluster the stream's leader may be in election
  await retryTransient(async () => {
    const existing = await jsm.consumers.info(stream, name).catch((err: Error) => {
      if (/not found/i.test(err.message)) return undefined;
      throw err;
    });
    if (!existing) await jsm.consumers.add(stream, config);
    else if (existing.config.max_ack_pending !== config.max_ack_pending || existing.config.ack_wait !== config.ack_wait)
      await jsm.consumers.update(stream, name, { max_ack_pending: config.max_ack_pending, ack_wait: config.ack_wait });
  });
  return (await retryTransient(() => js.consumers.get(stream, name))).consume({ max_messages: 200, expires: PULL_EXPIRES_MS });
}

/**
 * Publishes an event that cannot be applied to `dlq.<projection>` of the namespace `naming` (its own stream), with
 * the original subject (as the code names it), sequence and the reason in headers; its msg id makes a second
 * copy (a retry, another replica) a no-op.
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  naming: Naming,
  projection: string,
  m: { subject: string; seq: number; data: Uint8Array },
  reason: string,
): Promise<void> {
  const h = headers();
  h.set('Original-Subject', naming.local(m.subject));
  h.set('Original-Sequence', String(m.seq));
  h.set('Error', reason.slice(0, 500));
  await js.publish(naming.subject(deadLetterSubject(projection)), m.data, { headers: h, msgID: `${projection}:${m.seq}` });
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
