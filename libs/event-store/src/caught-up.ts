import type { JetStreamManager } from 'nats';
import { eventsStreamName, type CommandMeta, type Naming } from '@app/contracts';
import { lastSequenceOf } from '@app/messaging';

/**
 * How far a read model has applied the events stream: the one thing every read-your-writes wait looks at.
 * `position()` is what this process knows at once; `shared()`, for a read model that other processes apply
 * too (a durable consumer's replicas, the audit log's lease holder), reads the position they share (the
 * checkpoint in the database).
 */
export interface Progress {
  /** highest stream sequence applied, as far as this process knows */
  position(): number;
  /** calls `listener` whenever `position()` may have grown; returns the function that unsubscribes it */
  onAdvance(listener: () => void): () => void;
  shared?(): Promise<number>;
}

/** A position that only grows, and the listeners waiting on it. */
export class Position implements Progress {
  private value: number;
  private readonly listeners = new Set<() => void>();

  constructor(initial = 0) {
    this.value = initial;
  }

  position(): number {
    return this.value;
  }

  advance(sequence: number): void {
    if (sequence <= this.value) return;
    this.value = sequence;
    for (const listener of [...this.listeners]) listener();
  }

  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A read model applied by other processes only (e.g. before this one's consumer runs): its shared position. */
export function sharedProgress(read: () => Promise<number>): Progress {
  return { position: () => 0, onAdvance: () => () => undefined, shared: read };
}

/** How often a wait on a shared read model reads the shared position, when nothing here wakes it earlier. */
const SHARED_POLL_MS = 20;

/** Resolves true once `ready()` holds (checked at once and after every advance), false after `timeoutMs`. */
export function waitUntil(progress: Progress, ready: () => boolean, timeoutMs: number): Promise<boolean> {
  if (ready()) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const done = (reached: boolean) => {
      clearTimeout(timer);
      off();
      resolve(reached);
    };
    const off = progress.onAdvance(() => ready() && done(true));
    const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
  });
}

/**
 * THE caught-up wait: resolves true once the read model has applied the stream up to `sequence` (here, or —
 * for a shared read model — by any process), false after `timeoutMs`. The caller decides what a late read
 * model means (a 503, or an answer that may be behind).
 */
export async function waitUntilApplied(progress: Progress, sequence: number, timeoutMs: number): Promise<boolean> {
  const reached = () => progress.position() >= sequence;
  if (reached()) return true;
  if (!progress.shared) return waitUntil(progress, reached, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await progress.shared().catch(() => 0)) >= sequence) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    if (await waitUntil(progress, reached, Math.min(left, SHARED_POLL_MS))) return true;
  }
}

const lookUps = new WeakMap<JetStreamManager, Map<string, () => Promise<number>>>();

/**
 * The events stream's last sequence now: what a read-your-writes read waits for (everything published before
 * the read began). Concurrent callers on one connection share the look-ups: at most one is in flight, and a
 * caller that arrives while one is in flight waits for the next one, sent after it arrived — so no caller is
 * answered with a position read before it started, and a burst of reads costs one or two stream-info requests.
 * `naming`: the caller's namespace (its configuration), whose events stream is read.
 */
export function streamLastSequence(jsm: JetStreamManager, naming: Naming): Promise<number> {
  const stream = eventsStreamName(naming);
  let byStream = lookUps.get(jsm);
  if (!byStream) lookUps.set(jsm, (byStream = new Map()));
  let lookUp = byStream.get(stream);
  if (!lookUp) byStream.set(stream, (lookUp = sharedLookUp(() => lastSequenceOf(jsm, stream))));
  return lookUp();
}

/** `read` made shareable by concurrent callers as `streamLastSequence` describes. */
export function sharedLookUp<T>(read: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const p = read();
    inflight = p;
    const clear = () => {
      if (inflight === p) inflight = undefined;
    };
    p.then(clear, clear);
    return p;
  };
  return () => {
    if (!inflight) return start();
    queued ??= inflight
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        queued = undefined;
        return start();
      });
    return queued;
  };
}

/**
 * The sequence a read of a request must reach, without asking JetStream when it can: the gateway's read index
 * (`meta.readIndex`: the stream's end when the request arrived, so every write answered before it began, once
 * published), or `own` when further (what this process's relay had acked: its own appends, once `settled`).
 * Looked up (`streamLastSequence`) without a read index (another service's call) or when the caller names writes
 * of its own (`meta.after`: their events may have been published by another replica after the read index).
 */
export function readSequence(jsm: JetStreamManager, naming: Naming, meta: Pick<CommandMeta, 'after' | 'readIndex'> | undefined, own = 0): Promise<number> {
  return meta?.readIndex === undefined || meta.after?.length ? streamLastSequence(jsm, naming) : Promise.resolve(Math.max(meta.readIndex, own));
}
