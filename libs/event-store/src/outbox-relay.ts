import type { Collection } from 'mongodb';
import { JSONCodec, headers, type JetStreamClient } from 'nats';
import { evtSubject, type ServiceName } from '@app/contracts';
import type { CommitDocument } from './commit';

export interface RelayLogger {
  warn(obj: object, msg: string): void;
}

export interface OutboxRelayOptions {
  commits: Collection<CommitDocument>;
  js: JetStreamClient;
  service: ServiceName;
  logger?: RelayLogger;
  sweepIntervalMs?: number;
  /** only sweep commits older than this, so the sweep does not race the publish that follows each append */
  sweepGraceMs?: number;
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;

const codec = JSONCodec();
const SWEEP_CONCURRENCY = 8;

/**
 * Publishes committed events to JetStream in per-stream order, each with `Nats-Msg-Id` = event id (so
 * JetStream drops a second publish of the same event), and marks the commit published afterwards.
 *
 * Every relay publishes a stream's unpublished commits oldest first and waits for each ack, so the first
 * copy of every event reaches JetStream in stream order even when several relays (replicas, the sweep)
 * work on the same stream at once.
 */
export function createOutboxRelay(options: OutboxRelayOptions) {
  const { commits, js, service, logger } = options;
  const running = new Map<string, Promise<void>>();
  /** per stream, the last version this process saw acked by JetStream (bounded; a miss only costs a query) */
  const publishedUpTo = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;

  async function publishCommits(streamId: string, appended?: CommitDocument): Promise<void> {
    // Right after an append whose predecessors this process has published, that commit is all there is to
    // publish: no query (on FerretDB a query by streamId scans the whole collection).
    const pending =
      appended && (publishedUpTo.get(streamId) ?? 0) === appended.fromVersion - 1
        ? [appended]
        : await commits.find({ streamId, published: false }).sort({ fromVersion: 1 }).toArray();
    for (const commit of pending) {
      for (const event of commit.events) {
        const h = headers();
        h.set('Correlation-Id', event.metadata.correlationId);
        await js.publish(evtSubject(service, event.type, event.version), codec.encode(event), {
          msgID: event.id,
          headers: h,
        });
      }
      if (publishedUpTo.size >= 10_000) publishedUpTo.clear();
      publishedUpTo.set(streamId, commit.toVersion);
      await commits.updateOne({ _id: commit._id }, { $set: { published: true } });
    }
  }

  /** Publish whatever is unpublished in one stream; calls for the same stream run one after another. */
  function publishStream(streamId: string, appended?: CommitDocument): Promise<void> {
    const previous = running.get(streamId) ?? Promise.resolve();
    const next = previous.then(() => publishCommits(streamId, appended));
    running.set(streamId, next);
    const forget = () => {
      if (running.get(streamId) === next) running.delete(streamId);
    };
    next.then(forget, forget);
    return next;
  }

  /** Publish right after an append; a failure is left to the sweep. */
  function onAppended(commit: CommitDocument): void {
    publishStream(commit.streamId, commit).catch((err: Error) =>
      logger?.warn({ err: err.message, streamId: commit.streamId }, 'publish after append failed; the sweep will retry'),
    );
  }

  /**
   * Finds every stream with unpublished commits (a crash, NATS down) and publishes them, a few streams at a
   * time. A stream that fails does not hold up the others; the sweep rejects afterwards if any failed.
   */
  async function sweep(): Promise<number> {
    const graceMs = options.sweepGraceMs ?? 1000;
    const streams = await commits.distinct('streamId', {
      published: false,
      committedAt: { $lt: new Date(Date.now() - graceMs) },
    });
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < streams.length) {
        const streamId = streams[next++];
        await publishStream(streamId).catch((err: Error) => failures.push(`${streamId}: ${err.message}`));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, streams.length) }, worker));
    if (failures.length) throw new Error(`${failures.length} of ${streams.length} streams not published: ${failures[0]}`);
    return streams.length;
  }

  function start(): void {
    const interval = options.sweepIntervalMs ?? 2000;
    timer = setInterval(() => {
      if (sweeping) return;
      sweeping = sweep()
        .then(() => undefined)
        .catch((err: Error) => logger?.warn({ err: err.message }, 'outbox sweep failed'))
        .finally(() => (sweeping = undefined));
    }, interval);
    timer.unref();
  }

  async function stop(): Promise<void> {
    if (timer) clearInterval(timer);
    await sweeping;
    await Promise.allSettled([...running.values()]);
  }

  /** Waits until this process has nothing in flight for the stream (read-your-writes for its callers). */
  async function flushStream(streamId: string): Promise<void> {
    await running.get(streamId);
  }

  return { publishStream, onAppended, sweep, start, stop, flushStream };
}
