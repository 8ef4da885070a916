import type { JetStreamClient, JetStreamManager } from 'nats';
import { eventsStreamName, parseEventSubject, type Naming } from '@app/contracts';
import { consumeEvents, scheduleSnapshots, streamLastSequence, type ConsumerMetrics, type Rejected, type UpcasterRegistry } from '@app/event-store';
import { AccessView } from './access-view';
import { type SnapshotHead, type SnapshotSchedule, type SnapshotStore, type StreamIdentity } from './view-snapshot';
import { streamInfo } from '@app/messaging';

const RELEVANT = new Set(['membership', 'authorization']);
export const VIEW_CONSUMER = 'authorization-view';

/** Membership and authorization events, and identity's username changes; the rest is skipped undecoded. */
function relevant(subject: string): boolean {
  const parsed = parseEventSubject(subject);
  return !!parsed && (RELEVANT.has(parsed.service) || parsed.type === 'user.username-changed');
}

export interface RunningAccessView {
  view: AccessView;
  /** where the view started: the restored snapshot's sequence (0: replayed from sequence 1) */
  startedFrom: number;
  stop(): Promise<void>;
}

type Logger = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

/**
 * Feeds an AccessView from the events stream with the shared consumer in `ordered` mode (an ephemeral,
 * per-process consumer): every replica holds the whole view in memory. With `snapshots`, it starts from the
 * newest snapshot in the service's database and consumes from its sequence + 1 (else from sequence 1), and
 * writes snapshots now and then. A durable consumer shared by replicas would split the events between them; an
 * ordered consumer gives each process every event, in order, and resumes after the last sequence it saw when it
 * has to reconnect. An event the view cannot apply is logged and counted as a dead letter and skipped (not
 * published: every start replays the stream and would publish it again).
 */
export async function startAccessView(opts: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  upcasters?: UpcasterRegistry;
  timeoutMs?: number;
  /** how long start-up may take to replay the stream before the service gives up (default 5 minutes) */
  startupTimeoutMs?: number;
  snapshots?: { store: SnapshotStore; schedule: SnapshotSchedule; onWritten?: (head: SnapshotHead) => void };
  logger?: Logger;
  onPoison?: () => void;
  metrics?: ConsumerMetrics;
}): Promise<RunningAccessView> {
  const stream = eventsStreamName(opts.naming);
  const started = Date.now();
  const view = new AccessView(() => streamLastSequence(opts.jsm, opts.naming), opts.timeoutMs);
  const info = await streamInfo(opts.jsm, stream);
  const identity: StreamIdentity = { name: stream, created: info.created };
  const restored = opts.snapshots ? await opts.snapshots.store.load(identity, info.state.last_seq, opts.logger) : undefined;
  if (restored) view.restore(restored.snapshot);
  const from = view.sequence + 1;
  // events the view needs are gone from the stream (retention, purge): a view with a hole could keep access
  // that was taken away, so the replica does not start (docs/authorization.md, "Snapshots")
  if (info.state.first_seq > from && info.state.last_seq >= from)
    throw new Error(
      `the events stream starts at sequence ${info.state.first_seq}, but the authorization view needs it from ${from} (${restored ? 'newest snapshot' : 'no snapshot'}): refusing to start with an incomplete view`,
    );
  const restoredMs = Date.now() - started;

  const consumer = await consumeEvents({
    name: VIEW_CONSUMER,
    js: opts.js,
    jsm: opts.jsm,
    naming: opts.naming,
    mode: 'ordered',
    progress: view.applied,
    decode: relevant,
    upcasters: opts.upcasters,
    maxBatch: 1000,
    publishDeadLetters: false,
    logger: opts.logger,
    onDeadLetter: opts.onPoison,
    metrics: opts.metrics,
    apply(events) {
      // never block the view on one event: skip it (a dead letter) and go on
      const rejected: Rejected[] = [];
      for (const e of events) {
        try {
          view.ingest(e.event, e.sequence);
        } catch (err) {
          rejected.push({ sequence: e.sequence, reason: (err as Error).message });
          view.ingest(undefined, e.sequence);
        }
      }
      return rejected;
    },
  });
  // A replica joins the queue group only with a complete view: start-up waits until the replay has reached
  // the end of the stream as it was now.
  try {
    await view.catchUp(opts.startupTimeoutMs ?? 300_000);
  } catch (err) {
    await consumer.stop(0);
    throw err;
  }
  opts.logger?.info(
    { snapshotSequence: restored?.snapshot.sequence ?? 0, restoredMs, replayed: view.consumed, sequence: view.sequence, ms: Date.now() - started },
    'authorization view caught up',
  );
  const snapshots =
    opts.snapshots &&
    scheduleSnapshots({
      name: 'authorization view',
      store: opts.snapshots.store,
      stream: identity,
      schedule: opts.snapshots.schedule,
      position: () => view.sequence,
      take: () => view.snapshot(),
      newest: restored?.head,
      idle: () => consumer.pending() === 0,
      logger: opts.logger,
      onWritten: opts.snapshots.onWritten,
    });
  return {
    view,
    startedFrom: restored?.snapshot.sequence ?? 0,
    async stop() {
      await snapshots?.stop();
      await consumer.stop();
    },
  };
}
