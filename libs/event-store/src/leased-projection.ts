import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { JetStreamClient, JetStreamManager } from 'nats';
import type { Naming } from '@app/contracts';
import { Position, type Progress } from './caught-up';
import { consumeEvents, type ConsumerLogger, type ConsumerMetrics, type EventConsumer, type Rejected, type StreamEvent } from './consumer';
import { Lease } from './lease';
import { mongoCheckpoint } from './projection-runner';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export interface LeasedProjectionOptions {
  /** the projection's name: checkpoint, lease, dead-letter subject `dlq.<name>` */
  name: string;
  db: Db;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** the namespace of the streams and subjects (the service's configuration) */
  naming: Naming;
  /** subjects to consume, as the code names them (default every event) */
  subjects?: string[];
  /**
   * Applies consecutive events in stream order (up to `maxBatch`); idempotent (a batch left unfinished is applied
   * again by the next leader). Returns the events it can never apply; throws on a failure worth retrying.
   */
  apply(events: StreamEvent[]): Promise<Rejected[] | void>;
  /** default 500 */
  maxBatch?: number;
  /** tries of a batch, then of each of its events, before an event is dead-lettered (default 5) */
  maxDeliver?: number;
  retryDelayMs?: number;
  /** how often the lease is renewed, and looked for by the replicas without it (default 5 s) */
  renewEveryMs?: number;
  leaseTtlMs?: number;
  /** the lease to hold (default one of its own, named after the projection); given when others steal it, e.g. a rebuild */
  lease?: Lease;
  /** called each time this replica becomes the leader, before it consumes (e.g. to drop caches another leader made stale) */
  onLeader?: () => Promise<void>;
  logger?: ConsumerLogger;
  onDeadLetter?: () => void;
  /** the process's metrics: the consumer's lag while this replica holds the lease */
  metrics?: ConsumerMetrics;
}

export interface LeasedProjection extends Progress {
  /** stops after the batch being applied, waiting at most `graceMs` (default 5 s) for it */
  stop(graceMs?: number): Promise<void>;
}

class LeaseLost extends Error {}

/**
 * A read model kept in MongoDB in batches by one replica at a time: the replica holding the lease (`Lease`,
 * renewed every `renewEveryMs` and before each batch) reads the events stream from the checkpoint on with an
 * ordered consumer (`consumeEvents`) and hands `apply` what has arrived, up to `maxBatch` events, in stream
 * order; the consumer checkpoints after each batch (`projection_checkpoints`, `$max`). The other replicas wait
 * for the lease. What a durable consumer with one unacknowledged event (`runProjection`) cannot do: apply many
 * events with one write per document they touch, and no round trip to the broker per event. `shared()` reads the
 * checkpoint, so a read-your-writes wait in any replica sees the leader's progress.
 */
export function runLeasedProjection(options: LeasedProjectionOptions): LeasedProjection {
  const { db, name } = options;
  const renewEveryMs = options.renewEveryMs ?? 5000;
  const lease = options.lease ?? new Lease(db, name, randomUUID(), options.leaseTtlMs ?? 20_000);
  const checkpoint = mongoCheckpoint(db, name);
  const applied = new Position();
  let stopped = false;
  let consumer: EventConsumer | undefined;
  let wakeStop: (() => void) | undefined;
  const stoppedSignal = new Promise<void>((r) => (wakeStop = r));

  let lastRenew = 0;
  async function holdLease(): Promise<boolean> {
    if (Date.now() - lastRenew < renewEveryMs) return true;
    const held = await lease.acquire();
    if (held) lastRenew = Date.now();
    return held;
  }

  async function runWhileLeader(): Promise<void> {
    const lost = new AbortController();
    const renew = setInterval(
      () =>
        void holdLease().then(
          (held) => held || lost.abort(),
          () => lost.abort(),
        ),
      renewEveryMs,
    );
    try {
      await options.onLeader?.();
      consumer = await consumeEvents({
        name,
        js: options.js,
        jsm: options.jsm,
        naming: options.naming,
        mode: 'ordered',
        subjects: options.subjects,
        checkpoint,
        progress: applied,
        maxBatch: options.maxBatch ?? 500,
        maxDeliver: options.maxDeliver,
        retryDelayMs: options.retryDelayMs,
        signal: lost.signal,
        logger: options.logger,
        onDeadLetter: options.onDeadLetter,
        metrics: options.metrics,
        async apply(batch) {
          if (!(await holdLease())) {
            lost.abort();
            throw new LeaseLost(`the ${name} lease is held by another replica`);
          }
          return options.apply(batch);
        },
      });
      if (stopped) void consumer.stop(0);
      await consumer.done;
    } finally {
      clearInterval(renew);
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
        options.logger?.error({ projection: name, err: (err as Error).message }, 'projection stopped; restarting');
        await Promise.race([sleep(1000), stoppedSignal]);
      }
    }
  })();

  return {
    position: () => applied.position(),
    onAdvance: (listener) => applied.onAdvance(listener),
    shared: () => checkpoint.read(),
    async stop(graceMs = 5000) {
      stopped = true;
      wakeStop?.();
      const finished = (await consumer?.stop(graceMs)) ?? true;
      // a batch left unfinished keeps the lease until it expires, so the next leader applies it again
      if (finished && (await Promise.race([loop.then(() => true), sleep(graceMs).then(() => false)]))) await lease.release();
    },
  };
}
