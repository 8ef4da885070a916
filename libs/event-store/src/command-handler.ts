import { DomainError, ErrorCode, type CatalogueEvent, type CommandMeta, type NewEvent } from '@app/contracts';
import { ConcurrencyError } from './errors';
import type { EventStore } from './event-store';
import type { CommitDocument } from './commit';

/** An aggregate's pure functions (spread one into `handleCommand`'s options). */
export interface Decider<S, C> {
  initialState: S;
  /** folds one event of the aggregate's stream (of the catalogue: checked when appended, upcast when read) */
  evolve: (state: S, event: CatalogueEvent) => S;
  /** pure: returns the events the command causes (empty when there is nothing to do) or throws a DomainError */
  decide: (command: C, state: S, meta: CommandMeta) => NewEvent[];
}

/** What a load gives: the state and the stream version it is the state at (0: the stream does not exist). */
export interface Loaded<S> {
  state: S;
  version: number;
}

/**
 * One command on one stream. Only `store`, `streamId`, `command`, `meta` and `decide` are needed (with
 * `initialState` and `evolve` for the default load: spread a `Decider` in); the rest are the plug-in points.
 */
export interface RunCommand<S, C, X = undefined, R = undefined, L extends Loaded<S> = Loaded<S>> {
  store: EventStore;
  streamId: string;
  command: C;
  meta: CommandMeta;
  /** pure (`Decider.decide`), given what `input` fetched for this attempt */
  decide: (command: C, state: S, meta: CommandMeta, input: X) => NewEvent[];
  /** folds the appended events into the result's state, and the stream in the default load (without it the result's state is the one decided on) */
  evolve?: (state: S, event: CatalogueEvent) => S;
  initialState?: S;
  /** default: the fold of the whole stream (`store.load`); e.g. a cache or snapshot plus the newer commits, or a live view's version */
  load?: () => Promise<L>;
  /** the command id's earlier commit, if any (default `store.findByCommand`) */
  findEarlier?: (commandId: string) => Promise<CommitDocument | null>;
  /**
   * After the look-up, before deciding: makes the loaded state the state at the loaded version (a live view
   * waits until it has applied it). `false`: the state is already past that version, load again (an attempt).
   */
  ready?: (loaded: L) => Promise<boolean>;
  /** extra input of `decide` fetched for each attempt, after the look-up (e.g. another service's fact) */
  input?: (loaded: L) => Promise<X>;
  /** the command's reply, stored with its commit (never secrets) and given again to a repeated command id */
  reply?: (events: NewEvent[], state: S, input: X) => R;
  /**
   * Called once per run that ends with a commit: the one appended now or, when `result.duplicate`, the
   * command id's earlier one (e.g. record the command id, update a cache or snapshot, flush the outbox,
   * wait for a read model). Not called when the command changed nothing.
   */
  afterCommit?: (result: CommandResult<S, R> & { commit: CommitDocument }, loaded: L) => Promise<void>;
  /** decisions after the first one, on version conflicts (default 5); then CONCURRENT_MODIFICATION */
  retries?: number;
  /** a retry waits a random time below `backoffMs × attempt` (default 20 ms), so racing writers spread out */
  backoffMs?: number;
  /** the CONCURRENT_MODIFICATION message */
  conflictMessage?: string;
}

export interface CommandResult<S, R = undefined> {
  /** the state after the command (with a repeated command id: as loaded again) */
  state: S;
  version: number;
  /** the events decided now (none when nothing changed or the command id had been appended before) */
  events: NewEvent[];
  commit?: CommitDocument;
  /** true when the command id had been handled before and nothing new was appended */
  duplicate: boolean;
  /** the reply computed now, or the first run's stored reply for a repeated command id */
  reply: R;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The one command runner: load → look the command id up → (ready, input) → pure decide → append with the
 * reply → after-commit hook; on a version conflict it waits a little and does it all again on the new state,
 * so every decision is made on the latest state (this is what keeps invariants under concurrent commands),
 * up to `retries` times, then CONCURRENT_MODIFICATION. A command id that was already appended returns its
 * first commit and reply and appends nothing.
 */
export async function handleCommand<S, C, X = undefined, R = undefined, L extends Loaded<S> = Loaded<S>>(
  run: RunCommand<S, C, X, R, L>,
): Promise<CommandResult<S, R>> {
  const { store, streamId, meta } = run;
  const retries = run.retries ?? 5;
  const load = run.load ?? (() => loadStream(run) as Promise<L>);
  const findEarlier = run.findEarlier ?? store.findByCommand;
  const conflict = async (attempt: number): Promise<void> => {
    if (attempt >= retries) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, run.conflictMessage ?? 'the resource was changed concurrently; try again');
    await sleep(Math.random() * (run.backoffMs ?? 20) * (attempt + 1));
  };
  const finish = async (result: CommandResult<S, R>, loaded: L): Promise<CommandResult<S, R>> => {
    if (result.commit) await run.afterCommit?.({ ...result, commit: result.commit }, loaded);
    return result;
  };
  const repeated = (loaded: Loaded<S>, commit: CommitDocument): CommandResult<S, R> => ({
    state: loaded.state,
    version: loaded.version,
    events: [],
    commit,
    duplicate: true,
    reply: commit.reply as R,
  });

  for (let attempt = 0; ; attempt++) {
    // load first, then look the command id up: if the look-up misses, any copy of this command appended
    // later conflicts with our append, and the retry finds it (the other order could decide a retried
    // command on a state that already holds its first run, and refuse it)
    const loaded = await load();
    const earlier = await findEarlier(meta.commandId);
    if (earlier) return finish(repeated(loaded, earlier), loaded);
    if (run.ready && !(await run.ready(loaded))) {
      await conflict(attempt);
      continue;
    }
    const input = (await run.input?.(loaded)) as X;
    const events = run.decide(run.command, loaded.state, meta, input);
    const reply = run.reply ? run.reply(events, loaded.state, input) : (undefined as R);
    if (events.length === 0) return { state: loaded.state, version: loaded.version, events, duplicate: false, reply };
    let appended;
    try {
      appended = await store.append(streamId, loaded.version, events, { commandId: meta.commandId, meta, reply: run.reply ? (reply ?? null) : undefined });
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      await conflict(attempt);
      continue;
    }
    if (appended.status === 'duplicate') {
      // a copy of this command was appended after our look-up: its outcome, on the state as it is now
      const again = await load();
      return finish(repeated(again, appended.commit), again);
    }
    const { commit } = appended;
    const state = run.evolve ? commit.events.reduce(run.evolve, loaded.state) : loaded.state;
    return finish({ state, version: commit.toVersion, events, commit, duplicate: false, reply }, loaded);
  }
}

/** The default load: every event of the stream folded from the initial state. */
function loadStream<S>(run: { store: EventStore; streamId: string; evolve?: (state: S, event: CatalogueEvent) => S; initialState?: S }): Promise<Loaded<S>> {
  if (!run.evolve || run.initialState === undefined) throw new Error(`handleCommand on ${run.streamId} needs a load, or evolve and initialState`);
  return run.store.load(run.streamId, run.evolve, run.initialState);
}
