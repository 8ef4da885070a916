import type { Collection } from 'mongodb';
import { JSONCodec, headers, type JetStreamClient, type NatsConnection, type PubAck } from 'nats';
import { evtSubject, type DomainEvent, type ServiceName } from '@app/contracts';
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
/** Events of one stream sent before their acks are awaited (together). */
export const RELAY_BATCH_EVENTS = 256;
/** Acked commits are marked published together, at most this long after their acks (well below the sweep's grace). */
const MARK_DELAY_MS = 200;
/** NATS's default max_payload, for when the client does not know the server's (not connected). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The server's max_payload as the client knows it (nats.js keeps its connection on the JetStream client). */
function maxPayload(js: JetStreamClient): number {
  return (js as JetStreamClient & { nc?: NatsConnection }).nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
}

/** Commits from the first one up to the first gap in versions (a commit a concurrent query did not see yet). */
function contiguous(list: CommitDocument[]): CommitDocument[] {
  const end = list.findIndex((c, i) => i > 0 && c.fromVersion !== list[i - 1].toVersion + 1);
  return end < 0 ? list : list.slice(0, end);
}

/**
 * Publishes committed events to JetStream in per-stream order, each with `Nats-Msg-Id` = event id (so
 * JetStream drops a second publish of the same event), and marks the commits published afterwards.
 *
 * A stream's pending events go out in batches of up to RELAY_BATCH_EVENTS: all sent at once, in version
 * order, on one connection, then their acks awaited together. A batch stops the stream at its first failed
 * publish: the commits acked before it are done, the rest is sent again, from the first unacknowledged
 * event, by the next round (JetStream drops what it already has). Why the first copy of every event still
 * reaches JetStream in stream order, and where that ends: docs/architecture.md, "Outbox".
 */
export function createOutboxRelay(options: OutboxRelayOptions) {
  const { commits, js, service, logger } = options;
  /** per stream, its latest round (running or waiting); rounds of one stream run one after another */
  const latest = new Map<string, Promise<void>>();
  /** per stream, a round that has not started yet: later requests join it */
  const waiting = new Map<string, Promise<void>>();
  /** per stream, commits appended by this process that no round has taken yet */
  const appendedHere = new Map<string, CommitDocument[]>();
  /** streams whose next round must look for unpublished commits in the database (the sweep asked) */
  const scanRequested = new Set<string>();
  /** per stream, the last version this process saw acked by JetStream (bounded; a miss only costs a query) */
  const publishedUpTo = new Map<string, number>();
  /** acked commits not yet marked published, written together */
  const toMark = new Set<string>();
  let marks: Promise<void> = Promise.resolve();
  let markTimer: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  let stopped = false;
  /** stop() was called: no new rounds; what is unpublished is left to a sweep (of another replica, or the next start) */
  let stopping = false;

  /** Writes the pending published flags in one write (and one write at a time). */
  function writeMarks(): Promise<void> {
    clearTimeout(markTimer);
    markTimer = undefined;
    marks = marks.then(async () => {
      if (toMark.size === 0) return;
      const ids = [...toMark];
      toMark.clear();
      try {
        await commits.updateMany({ _id: { $in: ids } }, { $set: { published: true } });
      } catch (err) {
        // JetStream has these events: a later write marks them, or a sweep publishes them again (dropped as duplicates)
        for (const id of ids) toMark.add(id);
        logger?.warn({ err: (err as Error).message, commits: ids.length }, 'marking commits published failed; will retry');
        scheduleMarks();
      }
    });
    return marks;
  }

  function scheduleMarks(): void {
    if (markTimer || stopped || toMark.size === 0) return;
    markTimer = setTimeout(() => void writeMarks(), MARK_DELAY_MS);
    markTimer.unref();
  }

  interface Message {
    event: DomainEvent;
    data: Uint8Array;
    /** what NATS counts against max_payload: the data and the headers `publish` sends */
    bytes: number;
  }

  function message(event: DomainEvent): Message {
    const data = codec.encode(event);
    const head = `NATS/1.0\r\nCorrelation-Id: ${event.metadata.correlationId}\r\nNats-Msg-Id: ${event.id}\r\n\r\n`;
    return { event, data, bytes: data.length + Buffer.byteLength(head) };
  }

  function publish({ event, data }: Message): Promise<PubAck> {
    const h = headers();
    h.set('Correlation-Id', event.metadata.correlationId);
    return js.publish(evtSubject(service, event.type, event.version), data, { msgID: event.id, headers: h });
  }

  /** The stream's commits to publish now: those appended here when they follow what this process published, else a query. */
  async function pendingCommits(streamId: string, scan: boolean): Promise<CommitDocument[]> {
    const upTo = publishedUpTo.get(streamId) ?? 0;
    const mine = (appendedHere.get(streamId) ?? []).filter((c) => c.toVersion > upTo);
    appendedHere.delete(streamId);
    // Right after appends whose predecessors this process has published, those commits are all there is to
    // publish: no query (on FerretDB a query by streamId scans the whole collection).
    if (!scan && mine.length === 0) return [];
    if (!scan && mine[0].fromVersion === upTo + 1 && contiguous(mine).length === mine.length) return mine;
    const unpublished = await commits.find({ streamId, published: false }).sort({ fromVersion: 1 }).toArray();
    // commits this process has published but not marked yet are not sent again
    return contiguous(unpublished.filter((c) => c.toVersion > (publishedUpTo.get(streamId) ?? 0)));
  }

  /** Records commits whose every event JetStream acked. */
  function published(streamId: string, done: CommitDocument[]): void {
    if (done.length === 0) return;
    if (publishedUpTo.size >= 10_000) publishedUpTo.clear();
    publishedUpTo.set(streamId, Math.max(publishedUpTo.get(streamId) ?? 0, done[done.length - 1].toVersion));
    for (const c of done) toMark.add(c._id);
    scheduleMarks();
  }

  async function publishRound(streamId: string, scan: boolean): Promise<void> {
    const pending = await pendingCommits(streamId, scan);
    const events = pending.flatMap((c) => c.events.map(message));
    // An event NATS would refuse before sending is never put in a batch: the events after it would go out
    // and reach JetStream before it. The stream stops there.
    const limit = maxPayload(js);
    const tooBig = events.findIndex((m) => m.bytes > limit);
    const sendable = tooBig < 0 ? events.length : tooBig;
    let acked = 0;
    let commitIndex = 0;
    let eventsBefore = 0; // events of the commits before pending[commitIndex]
    while (acked < sendable) {
      const batch = events.slice(acked, Math.min(acked + RELAY_BATCH_EVENTS, sendable));
      // all sent in this event-loop turn, in order; then the acks, together
      const results = await Promise.allSettled(batch.map(publish));
      const failed = results.findIndex((r) => r.status === 'rejected');
      acked += failed < 0 ? batch.length : failed;
      const done: CommitDocument[] = [];
      while (commitIndex < pending.length && eventsBefore + pending[commitIndex].events.length <= acked) {
        eventsBefore += pending[commitIndex].events.length;
        done.push(pending[commitIndex++]);
      }
      published(streamId, done);
      if (failed >= 0) {
        const storedAfter = results.slice(failed + 1).filter((r) => r.status === 'fulfilled' && !r.value.duplicate).length;
        if (storedAfter > 0)
          logger?.warn(
            { streamId, version: batch[failed].event.streamVersion, storedAfter },
            'JetStream stored events of a batch after one that failed: their first copies may be out of stream order',
          );
        throw (results[failed] as PromiseRejectedResult).reason;
      }
    }
    if (tooBig >= 0) {
      const { event, bytes } = events[tooBig];
      throw new Error(`event ${event.id} (version ${event.streamVersion}) is ${bytes} bytes, more than NATS accepts (${limit})`);
    }
  }

  /**
   * Publish what is unpublished in one stream: `appended` (right after an append), or whatever the database
   * holds (the sweep). Rounds for the same stream run one after another; requests made while a round waits
   * to start are served by that round.
   */
  function publishStream(streamId: string, appended?: CommitDocument): Promise<void> {
    if (stopping) return Promise.resolve();
    if (appended) appendedHere.set(streamId, [...(appendedHere.get(streamId) ?? []), appended]);
    else scanRequested.add(streamId);
    const queued = waiting.get(streamId);
    if (queued) return queued;
    const previous = latest.get(streamId)?.catch(() => undefined) ?? Promise.resolve();
    const round = previous.then(() => {
      waiting.delete(streamId);
      return publishRound(streamId, scanRequested.delete(streamId));
    });
    waiting.set(streamId, round);
    latest.set(streamId, round);
    const forget = () => {
      if (latest.get(streamId) === round) latest.delete(streamId);
    };
    round.then(forget, forget);
    return round;
  }

  /** Publish right after an append; a failure is left to the sweep. */
  function onAppended(commit: CommitDocument): void {
    publishStream(commit.streamId, commit).catch((err: Error) =>
      logger?.warn({ err: err.message, streamId: commit.streamId }, 'publish after append failed; the sweep will retry'),
    );
  }

  /**
   * Finds every stream with unpublished commits (a crash, NATS down) and publishes them, a few streams at a
   * time, then marks them published. A stream that fails does not hold up the others; the sweep rejects
   * afterwards if any failed.
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
      while (next < streams.length && !stopping) {
        const streamId = streams[next++];
        await publishStream(streamId).catch((err: Error) => failures.push(`${streamId}: ${err.message}`));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, streams.length) }, worker));
    await writeMarks();
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

  /** Waits for every round in flight, then writes the pending published flags. */
  async function flush(): Promise<void> {
    await Promise.allSettled([...latest.values()]);
    await writeMarks();
  }

  /**
   * Stops the sweep, waits for the rounds in flight (each at most one batch) and writes the pending published
   * flags. No new round starts: a backlog (e.g. an account batch's 500 commits) is left to a sweep rather than
   * holding up the shutdown.
   */
  async function stop(): Promise<void> {
    stopping = true;
    if (timer) clearInterval(timer);
    await sweeping;
    await flush();
    stopped = true; // flags that could not be written now are left to a sweep
  }

  /**
   * Waits until this process has nothing in flight for the stream: JetStream has acked its events
   * (read-your-writes for its callers); the published flags follow within MARK_DELAY_MS.
   */
  async function flushStream(streamId: string): Promise<void> {
    await latest.get(streamId);
  }

  return { publishStream, onAppended, sweep, start, stop, flush, flushStream };
}
