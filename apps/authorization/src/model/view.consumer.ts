import { JSONCodec, type JetStreamClient, type JetStreamManager } from 'nats';
import { eventsStreamName, parseEventSubject, type DomainEvent } from '@app/contracts';
import type { UpcasterRegistry } from '@app/event-store';
import { AccessView } from './access-view';
import { scheduleSnapshots, type SnapshotHead, type SnapshotSchedule, type SnapshotStore, type StreamIdentity } from './view-snapshot';

const codec = JSONCodec<DomainEvent>();
const RELEVANT = new Set(['membership', 'authorization']);

export interface RunningAccessView {
  view: AccessView;
  /** where the view started: the restored snapshot's sequence (0: replayed from sequence 1) */
  startedFrom: number;
  stop(): Promise<void>;
}

type Logger = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

/**
 * Feeds an AccessView from the events stream with an ordered (ephemeral, per-process) consumer: every replica
 * holds the whole view in memory. With `snapshots`, it starts from the newest snapshot in the service's
 * database and consumes from its sequence + 1 (else from sequence 1), and writes snapshots now and then.
 * A durable consumer shared by replicas would split the events between them; an ordered consumer gives each
 * process every event, in order, and resumes after the last sequence it saw when it has to reconnect.
 */
export async function startAccessView(opts: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  upcasters?: UpcasterRegistry;
  timeoutMs?: number;
  /** how long start-up may take to replay the stream before the service gives up (default 5 minutes) */
  startupTimeoutMs?: number;
  snapshots?: { store: SnapshotStore; schedule: SnapshotSchedule; onWritten?: (head: SnapshotHead) => void };
  logger?: Logger;
  onPoison?: () => void;
}): Promise<RunningAccessView> {
  const stream = eventsStreamName();
  const started = Date.now();
  const view = new AccessView(async () => (await opts.jsm.streams.info(stream)).state.last_seq, opts.timeoutMs);
  const info = await opts.jsm.streams.info(stream);
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

  const consumer = await opts.js.consumers.get(stream, from > 1 ? { opt_start_seq: from } : {});
  const messages = await consumer.consume({ max_messages: 1000 });
  let pending = 0;
  const loop = (async () => {
    for await (const msg of messages) {
      const seq = msg.info.streamSequence;
      pending = msg.info.pending;
      const parsed = parseEventSubject(msg.subject);
      let event: DomainEvent | undefined;
      if (parsed && (RELEVANT.has(parsed.service) || parsed.type === 'user.username-changed')) {
        try {
          event = codec.decode(msg.data);
          if (opts.upcasters) event = opts.upcasters.upcast(event);
        } catch (err) {
          opts.logger?.error({ seq, err: (err as Error).message }, 'undecodable event skipped by the authorization view');
          opts.onPoison?.();
        }
      }
      try {
        view.ingest(event, seq);
      } catch (err) {
        // never block the view on one event: skip it (counted as a dead letter) and go on
        opts.logger?.error({ seq, err: (err as Error).message }, 'event could not be applied to the authorization view');
        opts.onPoison?.();
        view.ingest(undefined, seq);
      }
    }
  })().catch((err: Error) => opts.logger?.error({ err: err.message }, 'authorization view stopped consuming'));
  // A replica joins the queue group only with a complete view: start-up waits until the replay has reached
  // the end of the stream as it was now.
  try {
    await view.catchUp(opts.startupTimeoutMs ?? 300_000);
  } catch (err) {
    await messages.close();
    throw err;
  }
  opts.logger?.info(
    { snapshotSequence: restored?.snapshot.sequence ?? 0, restoredMs, replayed: view.consumed, sequence: view.sequence, ms: Date.now() - started },
    'authorization view caught up',
  );
  const snapshots =
    opts.snapshots &&
    scheduleSnapshots({
      view,
      store: opts.snapshots.store,
      stream: identity,
      schedule: opts.snapshots.schedule,
      newest: restored && { sequence: restored.head.sequence, at: restored.head.createdAt.getTime() },
      idle: () => pending === 0,
      logger: opts.logger,
      onWritten: opts.snapshots.onWritten,
    });
  return {
    view,
    startedFrom: restored?.snapshot.sequence ?? 0,
    async stop() {
      await snapshots?.stop();
      await messages.close();
      await loop;
    },
  };
}
