import type { Document } from 'mongodb';
import type { SnapshotHead, SnapshotStore, StreamIdentity } from './snapshot-store';

/** When an in-memory view writes a snapshot (docs/architecture.md "Snapshots of in-memory views"). */
export interface SnapshotSchedule {
  /** write when at least this many stream messages were applied since the newest snapshot … */
  everyEvents: number;
  /** … and at least this long has passed since it was written (whichever comes later; 0: no time condition) */
  everyMs: number;
  /** how often the conditions are looked at */
  checkEveryMs: number;
}

export interface ScheduledSnapshots {
  /** writes a snapshot now, due or not (nothing when a head of the stream is as new); joins a write in flight */
  writeNow(): Promise<void>;
  /** no more writes; resolves once the write in flight (if any) is done */
  stop(): Promise<void>;
}

/**
 * Every `checkEveryMs`, writes `take()` to `store` when it is due (`everyEvents` past the newest snapshot and
 * `everyMs` after it) and `idle()` (the view has caught up with the stream), one write at a time. Before
 * writing it reads the newest head of the stream, another replica's too: when that one is recent enough, it
 * writes none. A write that fails is logged (warn) and tried again when next due.
 */
export function scheduleSnapshots<S, H extends Document>(opts: {
  /** names the view in log lines, e.g. `authorization view` */
  name: string;
  store: Pick<SnapshotStore<S, H>, 'newest' | 'write'>;
  stream: StreamIdentity;
  schedule: SnapshotSchedule;
  /** the sequence the view has applied */
  position(): number;
  /** the state to write: a consistent copy as of `position()` (the view goes on changing while it is written) */
  take(): S;
  idle(): boolean;
  /** the newest snapshot known at start-up (the one restored) */
  newest?: { sequence: number; createdAt: Date };
  /** `info`: one line per snapshot written, with its figures */
  logger?: { info?(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  onWritten?(head: SnapshotHead<H>): void;
}): ScheduledSnapshots {
  const { store, stream, schedule } = opts;
  const at = (head: { sequence: number; createdAt: Date }) => ({ sequence: head.sequence, at: head.createdAt.getTime() });
  let newest = opts.newest ? at(opts.newest) : { sequence: 0, at: -Infinity };
  let writing: Promise<void> | undefined;
  let stopped = false;
  const due = () => opts.position() - newest.sequence >= schedule.everyEvents && Date.now() - newest.at >= schedule.everyMs;

  const write = async (now: boolean) => {
    if (!now) {
      const other = await store.newest(stream);
      if (other && other.sequence > newest.sequence) newest = at(other);
      if (!due() || !opts.idle()) return;
    }
    const started = Date.now();
    const head = await store.write(opts.take(), stream);
    if (!head) return; // another replica's is as new: read as the newest on the next look
    newest = at(head);
    const figures = Object.fromEntries(Object.entries(head).filter(([k, v]) => typeof v === 'number' && k !== 'format'));
    opts.logger?.info?.({ ...figures, ms: Date.now() - started }, `${opts.name} snapshot written`);
    opts.onWritten?.(head);
  };
  const start = async (now: boolean) => {
    if (stopped) return;
    await (writing ??= write(now)
      .catch((err: Error) => opts.logger?.warn({ reason: err.message }, `${opts.name} snapshot not written`))
      .finally(() => (writing = undefined)));
  };

  const timer = setInterval(() => {
    if (!writing && due() && opts.idle()) void start(false);
  }, schedule.checkEveryMs);
  timer.unref();

  return {
    writeNow: () => start(true),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await writing;
    },
  };
}
