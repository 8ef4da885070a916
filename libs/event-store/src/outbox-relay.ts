import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { JSONCodec, headers, type JetStreamClient, type NatsConnection, type PubAck } from 'nats';
import { evtSubject, type DomainEvent, type Naming, type ServiceName } from '@app/contracts';
import { fenceReaders, jetStreamPublisher, maxPayload, type JetStreamPublish } from '@app/messaging';
import {
  OUTBOX_POSITIONS,
  OUTBOX_SWEEP,
  OUTBOX_WRITERS,
  type CommitDocument,
  type OutboxPosition,
  type OutboxSweepCheckpoint,
  type OutboxWriter,
} from './commit';
import { duplicateKeyIndexes, upsertAgainIfRaced } from './errors';

export interface RelayLogger {
  warn(obj: object, msg: string): void;
}

export interface OutboxRelayOptions {
  /** the store's commits; the relay keeps its positions and the sweep's checkpoint in the same database */
  commits: Collection<CommitDocument>;
  js: JetStreamClient;
  /** how events are published (default: a `jetStreamPublisher` on `js`'s connection, closed by `stop()`) */
  publish?: JetStreamPublish;
  /** the namespace events are published in (the service's configuration) */
  naming: Naming;
  service: ServiceName;
  logger?: RelayLogger;
  /** how often the relay looks whether a sweep is due, and sweeps again while sweeps find work (default 2 s; see `start`) */
  sweepIntervalMs?: number;
  /**
   * how often a started relay says it is alive (default 5 s); a writer silent for 6 times this is taken for
   * dead, and its commits are swept 2 times this after it last said it was alive
   */
  heartbeatMs?: number;
  /** only sweep commits older than this, so the sweep does not race the publish that follows each append */
  sweepGraceMs?: number;
  /** how far before its checkpoint a sweep looks again, for inserts that became visible late (default 60 s) */
  sweepLookbackMs?: number;
  /**
   * how long a round after an append waits before it publishes (default HOLD_MS), so that the commits appended
   * meanwhile go out with it; `flushStream` cuts the wait short
   */
  holdMs?: number;
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;

const codec = JSONCodec();
const SWEEP_CONCURRENCY = 8;
/** Events of one stream sent before their acks are awaited (together). */
export const RELAY_BATCH_EVENTS = 256;
/**
 * A round after an append starts this much later: one writer appending one commit after another then sends
 * about two commits per socket write, and JetStream and the relay are woken half as often (bench:append, relay
 * on vs the store alone: 0.72–0.76 without, 0.80–0.84 with; bench/README.md). A command that waits for its
 * events to be in JetStream (`flushStream`) does not wait for it.
 */
const HOLD_MS = 1;
/** Positions acked here are stored together, at most this long after their acks (well below the sweep's grace). */
const POSITIONS_DELAY_MS = 200;
const DEFAULT_SWEEP_LOOKBACK_MS = 60_000;
const SWEEP_ID = 'sweep';

/** Commits from the first one up to the first gap in versions (a commit a concurrent query did not see yet). */
function contiguous(list: CommitDocument[]): CommitDocument[] {
  const end = list.findIndex((c, i) => i > 0 && c.fromVersion !== list[i - 1].toVersion + 1);
  return end < 0 ? list : list.slice(0, end);
}

/** `mine` from just after `upTo` when nothing can be missing before or between them (no query needed), else undefined. */
function following(mine: CommitDocument[], upTo: number): CommitDocument[] | undefined {
  const after = mine.filter((c) => c.toVersion > upTo);
  if (after.length === 0) return after;
  return after[0].fromVersion === upTo + 1 && contiguous(after).length === after.length ? after : undefined;
}

const positionsOf = (commits: Collection<CommitDocument>) => commits.db.collection<OutboxPosition>(OUTBOX_POSITIONS);

/** Per stream, the last version among `commits`. */
function lastVersions(commits: Array<Pick<CommitDocument, 'streamId' | 'toVersion'>>): Map<string, number> {
  const last = new Map<string, number>();
  for (const c of commits) last.set(c.streamId, Math.max(last.get(c.streamId) ?? 0, c.toVersion));
  return last;
}

/**
 * Stores the streams' positions; a stored position never goes back. The first position of a stream (`first`:
 * its version-1 commit was acked here) is inserted, the others are `$max` upserts by _id, each kind in one write.
 * On FerretDB an insert is about 1 ms whatever the collection's size, but an upsert by _id scans the collection
 * (one document per stream ever published: docs/operations.md, "FerretDB"). A first position that another
 * replica stored meanwhile (a duplicate key) is upserted after all.
 */
async function storePositions(commits: Collection<CommitDocument>, upTo: Iterable<[string, number]>, first: ReadonlySet<string> = new Set()): Promise<void> {
  const all = [...upTo];
  const inserts = all.filter(([id]) => first.has(id));
  let upserts = all.filter(([id]) => !first.has(id));
  if (inserts.length)
    await positionsOf(commits)
      .insertMany(
        inserts.map(([_id, version]) => ({ _id, version })),
        { ordered: false },
      )
      .catch((err: unknown) => {
        const raced = duplicateKeyIndexes(err);
        if (!raced) throw err;
        upserts = [...upserts, ...raced.map((i) => inserts[i])];
      });
  const ops = upserts.map(([_id, version]) => ({ updateOne: { filter: { _id }, update: { $max: { version } }, upsert: true } }));
  if (ops.length) await upsertAgainIfRaced(() => positionsOf(commits).bulkWrite(ops, { ordered: false }));
}

/**
 * Commits written before the relay kept positions carry a `published` flag and an index on it: the flags
 * become positions (the relay of before published each stream in order), then the index goes. Does nothing
 * once the index is gone; safe to run again if it stops half-way.
 */
export async function positionsFromPublishedFlags(commits: Collection<CommitDocument>): Promise<void> {
  if (!(await commits.indexExists('unpublished'))) return;
  const flagged = await commits.find({ published: true }, { projection: { streamId: 1, toVersion: 1 } }).toArray();
  await storePositions(commits, lastVersions(flagged));
  await commits.dropIndex('unpublished');
}

/**
 * How many commits are not published according to the stored positions: reads every commit and position,
 * for tests, benchmarks and diagnostics, never on a request path.
 */
export async function unpublishedCommits(commits: Collection<CommitDocument>): Promise<number> {
  const stored = new Map((await positionsOf(commits).find().toArray()).map((p) => [p._id, p.version]));
  const all = await commits.find({}, { projection: { streamId: 1, toVersion: 1 } }).toArray();
  return all.filter((c) => c.toVersion > (stored.get(c.streamId) ?? 0)).length;
}

/**
 * Publishes committed events to JetStream in per-stream order, each with `Nats-Msg-Id` = event id (so
 * JetStream drops a second publish of the same event), and stores per stream the version up to which
 * JetStream acknowledged them (`outbox_positions`, one small document per stream; commits are never updated).
 *
 * A stream's pending events go out in batches of up to RELAY_BATCH_EVENTS: all sent at once, in version
 * order, on one connection, then their acks awaited together. A batch stops the stream at its first failed
 * publish: the commits acked before it are done, the rest is sent again, from the first unacknowledged
 * event, by the next round (JetStream drops what it already has). Why the first copy of every event still
 * reaches JetStream in stream order, and where that ends: docs/architecture.md, "Outbox".
 */
export function createOutboxRelay(options: OutboxRelayOptions) {
  const { commits, js, naming, service, logger } = options;
  // nats.js keeps its connection on the JetStream client
  const nc = (js as JetStreamClient & { nc: NatsConnection }).nc;
  const own = options.publish ? undefined : jetStreamPublisher(nc);
  const send = options.publish ?? own!.publish;
  const positions = positionsOf(commits);
  const checkpoints = commits.db.collection<OutboxSweepCheckpoint>(OUTBOX_SWEEP);
  const writers = commits.db.collection<OutboxWriter>(OUTBOX_WRITERS);
  const writerId = randomUUID();
  const heartbeatMs = options.heartbeatMs ?? 5000;
  /** a writer silent this long is taken for dead */
  const writerTtlMs = 6 * heartbeatMs;
  /**
   * a writer's document is removed by a sweep whose window ends this long after the writer last said it was
   * alive: an insert it sent before it died or stopped is visible by then, so that sweep saw it
   */
  const writerSettleMs = 2 * heartbeatMs;
  const sweepGraceMs = options.sweepGraceMs ?? 1000;
  const holdMs = options.holdMs ?? HOLD_MS;
  /** the end of a sweep's window now */
  const sweepUntil = () => new Date(Date.now() - sweepGraceMs);
  /** per stream, its latest round (running or waiting); rounds of one stream run one after another */
  const latest = new Map<string, Promise<void>>();
  /** per stream, a round that has not started yet: later requests join it */
  const waiting = new Map<string, Promise<void>>();
  /** per stream, how to end the hold of its waiting round at once */
  const holds = new Map<string, () => void>();
  /** streams whose waiting round must not hold (a `flushStream` waits for it) */
  const hurried = new Set<string>();
  /** per stream, commits appended by this process that no round has taken yet */
  const appendedHere = new Map<string, CommitDocument[]>();
  /** streams whose next round must look for unpublished commits in the database (the sweep asked) */
  const scanRequested = new Set<string>();
  /** per stream, the highest version this process knows JetStream acked (bounded; a miss costs a lookup by _id) */
  const publishedUpTo = new Map<string, number>();
  /** positions acked here and not stored yet, written together */
  const toStore = new Map<string, number>();
  /** streams among `toStore` whose version-1 commit was acked here: their position is inserted (`storePositions`) */
  const firstPositions = new Set<string>();
  /**
   * streams whose last round here failed, with the commit time of the first commit it left unpublished: the
   * sweep retries them and does not move its checkpoint past that time
   */
  const failedSince = new Map<string, Date>();
  /** per stream, the commits this process knows are not published yet (version → commit time): the backlog it reports */
  const unpublished = new Map<string, Map<number, Date>>();
  /** the highest events-stream sequence JetStream acked for a publish of this process (0: none yet) */
  let ackedSequence = 0;
  let writes: Promise<void> = Promise.resolve();
  let writeTimer: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  let stopped = false;
  /** stop() was called: no new rounds; what is unpublished is left to a sweep (of another replica, or the next start) */
  let stopping = false;

  const known = (streamId: string) => publishedUpTo.get(streamId) ?? 0;

  function track(list: CommitDocument[]): void {
    for (const c of list) {
      if (c.toVersion <= known(c.streamId)) continue;
      const waiting = unpublished.get(c.streamId) ?? new Map<number, Date>();
      unpublished.set(c.streamId, waiting.set(c.toVersion, c.committedAt));
    }
  }

  function remember(streamId: string, version: number): void {
    const waiting = unpublished.get(streamId);
    if (waiting) {
      for (const v of waiting.keys()) if (v <= version) waiting.delete(v);
      if (waiting.size === 0) unpublished.delete(streamId);
    }
    if (known(streamId) >= version) return;
    if (publishedUpTo.size >= 10_000) publishedUpTo.clear();
    publishedUpTo.set(streamId, version);
  }

  /** Stores the pending positions in one write (one upsert by _id per stream; and one write at a time). */
  function writePositions(): Promise<void> {
    clearTimeout(writeTimer);
    writeTimer = undefined;
    writes = writes.then(async () => {
      if (toStore.size === 0) return;
      const batch = [...toStore];
      const first = new Set(firstPositions);
      toStore.clear();
      firstPositions.clear();
      try {
        await storePositions(commits, batch, first);
      } catch (err) {
        // JetStream has these events: a later write stores the positions; meanwhile another replica may publish them again (dropped as duplicates)
        for (const [id, version] of batch) if ((toStore.get(id) ?? 0) < version) toStore.set(id, version);
        for (const id of first) firstPositions.add(id);
        logger?.warn({ err: (err as Error).message, streams: batch.length }, 'storing outbox positions failed; will retry');
        schedulePositions();
      }
    });
    return writes;
  }

  function schedulePositions(): void {
    if (writeTimer || stopped || toStore.size === 0) return;
    writeTimer = setTimeout(() => void writePositions(), POSITIONS_DELAY_MS);
    writeTimer.unref();
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
    return send(naming.subject(evtSubject(service, event.type, event.version)), data, { msgID: event.id, headers: h });
  }

  /** The stored position of a stream (a lookup by _id; on FerretDB a scan inside SQLite, about 2 ms at 20,000 streams), or what this process knows if further. */
  async function storedPosition(streamId: string): Promise<number> {
    const stored = await positions.findOne({ _id: streamId });
    if (stored) remember(streamId, stored.version);
    return known(streamId);
  }

  /**
   * The stream's commits to publish now: those appended here when they follow what this process knows was
   * acked, or the stored position; else (or when the sweep asks) the commits after the stored position.
   */
  async function pendingCommits(streamId: string, mine: CommitDocument[], scan: boolean): Promise<CommitDocument[]> {
    // Right after appends that follow what is published, those commits are all there is to publish: no query
    // of the commits (on FerretDB any query of them but by _id reads the whole collection).
    const ready = scan ? undefined : following(mine, known(streamId));
    if (ready) return ready;
    const upTo = await storedPosition(streamId);
    const readyNow = scan ? undefined : following(mine, upTo);
    if (readyNow) return readyNow;
    const rest = await commits
      .find({ streamId, fromVersion: { $gt: upTo } })
      .sort({ fromVersion: 1 })
      .toArray();
    return contiguous(rest);
  }

  /** Records commits whose every event JetStream acked; their position is stored within POSITIONS_DELAY_MS. */
  function published(streamId: string, done: CommitDocument[]): void {
    if (done.length === 0) return;
    const version = done[done.length - 1].toVersion;
    remember(streamId, version);
    toStore.set(streamId, Math.max(toStore.get(streamId) ?? 0, version));
    if (done[0].fromVersion === 1) firstPositions.add(streamId);
    schedulePositions();
  }

  async function publishRound(streamId: string, scan: boolean): Promise<void> {
    const mine = appendedHere.get(streamId) ?? [];
    appendedHere.delete(streamId);
    let pending = mine;
    let commitIndex = 0; // the first commit of `pending` not wholly acked
    try {
      pending = await pendingCommits(streamId, mine, scan);
      track(pending);
      const events = pending.flatMap((c) => c.events.map(message));
      // An event NATS would refuse before sending is never put in a batch: the events after it would go out
      // and reach JetStream before it. The stream stops there.
      // the server's, as the client knows it
      const limit = maxPayload(nc);
      const tooBig = events.findIndex((m) => m.bytes > limit);
      const sendable = tooBig < 0 ? events.length : tooBig;
      let acked = 0;
      let eventsBefore = 0; // events of the commits before pending[commitIndex]
      while (acked < sendable) {
        const batch = events.slice(acked, Math.min(acked + RELAY_BATCH_EVENTS, sendable));
        // all sent in this event-loop turn, in order; then the acks, together
        const results = await Promise.allSettled(batch.map(publish));
        for (const r of results) if (r.status === 'fulfilled' && r.value.seq > ackedSequence) ackedSequence = r.value.seq;
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
      failedSince.delete(streamId);
    } catch (err) {
      const first = pending[commitIndex]?.committedAt;
      if (first) failedSince.set(streamId, first);
      throw err;
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
    const round = previous
      .then(() => (appended ? hold(streamId) : undefined))
      .then(() => {
        waiting.delete(streamId);
        hurried.delete(streamId);
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

  /** The hold of a round after an append (HOLD_MS): none when a `flushStream` waits for the round. */
  function hold(streamId: string): Promise<void> | undefined {
    if (holdMs <= 0 || hurried.has(streamId)) return undefined;
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        holds.delete(streamId);
        resolve();
      };
      const timer = setTimeout(end, holdMs);
      holds.set(streamId, end);
    });
  }

  /** Publish right after an append; a failure is left to the sweep. */
  function onAppended(commit: CommitDocument): void {
    track([commit]);
    publishStream(commit.streamId, commit).catch((err: Error) =>
      logger?.warn({ err: err.message, streamId: commit.streamId }, 'publish after append failed; the sweep will retry'),
    );
  }

  /** The streams whose last version in `heads` is after what this process or the stored positions say is published. */
  async function streamsBehind(heads: Map<string, number>): Promise<string[]> {
    const unsure = [...heads].filter(([id, version]) => known(id) < version).map(([id]) => id);
    if (unsure.length === 0) return [];
    const stored = new Map((await positions.find({ _id: { $in: unsure } }).toArray()).map((p) => [p._id, p.version]));
    return unsure.filter((id) => (stored.get(id) ?? 0) < heads.get(id)!);
  }

  /**
   * Finds the streams with unpublished commits (a crash between append and publish, NATS down) and publishes
   * them, a few streams at a time. It looks only at the commits of its window: from `sweepLookbackMs` before
   * its checkpoint (none: from the first commit) to `sweepGraceMs` ago, read from the committedAt index
   * alone on MongoDB, and compares each stream's last version there with the positions; plus the streams
   * whose rounds failed here. Then it moves the checkpoint to the window's end, or to the commit time of the
   * first commit that a failed round left unpublished. A stream that fails does not hold up the others; the sweep rejects afterwards
   * if any failed.
   */
  async function sweep(): Promise<number> {
    const until = sweepUntil();
    const settledWriters = await writersToForget(until);
    const lookback = options.sweepLookbackMs ?? DEFAULT_SWEEP_LOOKBACK_MS;
    const since = (await checkpoints.findOne({ _id: SWEEP_ID }))?.since;
    const committedAt = since ? { $gte: new Date(since.getTime() - lookback), $lte: until } : { $lte: until };
    // grouped here: FerretDB v1's $group has no $max
    const heads = lastVersions(await commits.find({ committedAt }, { projection: { _id: 0, streamId: 1, toVersion: 1 } }).toArray());
    const streams = [...new Set([...(await streamsBehind(heads)), ...failedSince.keys()])];
    const failures: Array<{ streamId: string; message: string }> = [];
    let next = 0;
    const worker = async () => {
      while (next < streams.length && !stopping) {
        const streamId = streams[next++];
        await publishStream(streamId).catch((err: Error) => failures.push({ streamId, message: err.message }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, streams.length) }, worker));
    await writePositions();
    // not past the first commit a failed round left unpublished (here; another replica's sweep keeps its
    // own), and not at all after a failure before the round knew its commits (the database failed)
    if (!stopping && failures.every((f) => failedSince.has(f.streamId))) {
      const checkpoint = new Date([...failedSince.values()].reduce((min, d) => Math.min(min, d.getTime()), until.getTime()));
      if (checkpoint.getTime() !== since?.getTime())
        await upsertAgainIfRaced(() => checkpoints.updateOne({ _id: SWEEP_ID }, { $set: { since: checkpoint } }, { upsert: true }));
    }
    if (failures.length) throw new Error(`${failures.length} of ${streams.length} streams not published: ${failures[0].streamId}: ${failures[0].message}`);
    // what those writers appended is in this window and published now (unless the sweep stopped half-way)
    if (!stopping) await forget(settledWriters);
    return streams.length;
  }

  /** Removes the writers' documents, each unless it spoke again meanwhile (matched by `_id` and `aliveAt`). */
  async function forget(gone: OutboxWriter[]): Promise<void> {
    for (const w of gone) await writers.deleteOne({ _id: w._id, aliveAt: w.aliveAt });
  }

  /**
   * The other writers that stopped (`gone`) or have been silent for longer than their time to live, and that
   * said they were alive at least writerSettleMs before `until`: a sweep up to `until` covers what they appended.
   */
  async function writersToForget(until: Date): Promise<OutboxWriter[]> {
    const silentSince = Date.now() - writerTtlMs;
    const all = await writers.find({}).toArray();
    return all.filter((w) => w._id !== writerId && (w.gone || w.aliveAt.getTime() < silentSince) && w.aliveAt.getTime() + writerSettleMs <= until.getTime());
  }

  /**
   * Of `settled` writers, those a sweep must still cover; the others are forgotten here. A sweep that moved the
   * checkpoint to `since` had seen every commit committed before it, so a writer that spoke last at least
   * writerSettleMs before `since` left nothing that sweep did not publish (e.g. a crashed replica whose restart
   * swept before the replica was taken for dead: no second sweep).
   */
  async function writersNotCovered(settled: OutboxWriter[]): Promise<OutboxWriter[]> {
    if (settled.length === 0) return settled;
    const since = (await checkpoints.findOne({ _id: SWEEP_ID }))?.since?.getTime() ?? -Infinity;
    const covered = settled.filter((w) => w.aliveAt.getTime() + writerSettleMs <= since);
    await forget(covered);
    return settled.filter((w) => !covered.includes(w));
  }

  /** Says this relay is alive (an upsert by `_id`), or that it is gone. */
  async function sayAlive(gone = false): Promise<void> {
    const $set: Partial<OutboxWriter> = gone ? { aliveAt: new Date(), gone } : { aliveAt: new Date() };
    await upsertAgainIfRaced(() => writers.updateOne({ _id: writerId }, { $set }, { upsert: true }));
  }

  /**
   * Registers this relay as a writer (resolves once its document is stored, so a crash after any append here
   * leaves one) and checks every `sweepIntervalMs` (2 s) whether a sweep is due. One is due:
   * - once after start (legacy commits, a writer that died before it registered), when the writers that were
   *   gone at the first tick have settled, so that one sweep covers them too;
   * - while a round failed here, or the last sweep found a stream behind or failed (again every 2 s);
   * - when another writer is gone or silent, and no sweep has covered it since (checked every 2 heartbeats;
   *   docs/architecture.md "Outbox", *Writers*).
   * Otherwise no sweep runs: every commit is published by the relay of the process that appended it, and on a
   * database without indexes (FerretDB) a sweep reads every commit.
   * Meanwhile the relay says it is alive every `heartbeatMs` (5 s).
   */
  async function start(): Promise<void> {
    const base = options.sweepIntervalMs ?? 2000;
    /** when the next sweep is due; the first one: not before the writers gone by then have settled (read at the first tick) */
    let sweepAt: number | undefined;
    let nextHeartbeat = Date.now() + heartbeatMs;
    let nextWritersCheck = Date.now() + 2 * heartbeatMs;
    await sayAlive();
    const tick = async () => {
      const now = Date.now();
      if (sweepAt === undefined) {
        const gone = (await writers.find({}).toArray()).filter((w) => w.gone).map((w) => w.aliveAt.getTime());
        sweepAt = Math.max(now, ...gone.map((at) => at + writerSettleMs + sweepGraceMs));
      }
      if (now >= nextHeartbeat) {
        nextHeartbeat = now + heartbeatMs;
        await sayAlive().catch((err: Error) => logger?.warn({ err: err.message }, 'outbox writer heartbeat failed'));
      }
      let due = now >= sweepAt || failedSince.size > 0;
      if (!due && now >= nextWritersCheck) {
        nextWritersCheck = now + 2 * heartbeatMs;
        due = (await writersNotCovered(await writersToForget(sweepUntil()))).length > 0;
      }
      if (!due) return;
      // again at the next tick while there is work; else when a writer goes
      sweepAt = (await sweep()) > 0 ? 0 : Infinity;
    };
    timer = setInterval(() => {
      if (sweeping || stopping) return;
      sweeping = tick()
        .catch((err: Error) => {
          sweepAt = 0;
          logger?.warn({ err: err.message }, 'outbox sweep failed');
        })
        .finally(() => (sweeping = undefined));
    }, base);
    timer.unref();
  }

  /** Until the rounds in flight in this process have ended: whatever was appended here before the call is published (or its round failed). */
  async function settled(): Promise<void> {
    await Promise.allSettled([...latest.values()]);
  }

  async function flush(): Promise<void> {
    await Promise.allSettled([...latest.values()]);
    await writePositions();
  }

  /**
   * Stops the sweep, waits for the rounds in flight (each at most one batch) and stores the pending
   * positions. No new round starts: a backlog (e.g. an account batch's 500 commits) is left to a sweep rather than
   * holding up the shutdown.
   */
  async function stop(): Promise<void> {
    stopping = true;
    if (timer) clearInterval(timer);
    await sweeping;
    await flush();
    // a sweep elsewhere (or at the next start) publishes what it left, after writerSettleMs
    if (timer) await sayAlive(true).catch((err: Error) => logger?.warn({ err: err.message }, 'could not record the outbox writer as gone'));
    own?.close();
    stopped = true; // positions that could not be stored now cost at most a second publish (dropped by JetStream)
  }

  /**
   * Waits until this process has nothing in flight for the stream: JetStream has acked its events
   * (read-your-writes for its callers), and every reader holding a read lease (the gateways) knows it must
   * have applied them before its next answer (`fenceReaders`); the stored position follows within
   * POSITIONS_DELAY_MS. What a command that must be seen everywhere at once awaits before it answers.
   */
  async function flushStream(streamId: string): Promise<void> {
    if (waiting.has(streamId)) {
      hurried.add(streamId);
      holds.get(streamId)?.();
    }
    await latest.get(streamId);
    const began = performance.now();
    const fence = await fenceReaders(nc, naming, ackedSequence);
    if (fence.waitedOut)
      logger?.warn(
        { streamId, readers: fence.readers, waitedOut: fence.waitedOut, ms: Math.round(performance.now() - began) },
        'a write waited out read leases: a gateway did not answer its fence (stopped without removing its record, or unreachable)',
      );
  }

  /**
   * Resolves true once JetStream has acked the stream up to `version` (a consistency token's position): known
   * here, or after this process's round of the stream, or — appended by another replica — once the stored
   * position shows it (a read by `_id` every 20 ms; positions are stored at most 200 ms after the acks);
   * false after `timeoutMs`.
   */
  async function waitPublished(streamId: string, version: number, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    await latest.get(streamId)?.catch(() => undefined);
    while (known(streamId) < version) {
      const stored = (await positions.findOne({ _id: streamId }))?.version ?? 0;
      if (stored >= version) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /**
   * What this process knows is waiting to be published (appended here, or found by its rounds and sweeps, and
   * not acked yet): how many commits, and the commit time of the oldest. No query: read on every scrape.
   */
  function backlog(): { commits: number; oldestCommittedAt?: Date } {
    let commits = 0;
    let oldest: number | undefined;
    for (const waiting of unpublished.values())
      for (const at of waiting.values()) {
        commits++;
        if (oldest === undefined || at.getTime() < oldest) oldest = at.getTime();
      }
    return { commits, oldestCommittedAt: oldest === undefined ? undefined : new Date(oldest) };
  }

  /**
   * The highest events-stream sequence JetStream acked for this process's publishes: after `settled()`, every
   * event this process appended before is at or below it (a read that must show them waits for it).
   */
  const lastAckedSequence = () => ackedSequence;

  return { publishStream, onAppended, sweep, start, stop, flush, flushStream, settled, waitPublished, backlog, lastAckedSequence };
}
