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

/** One command of a group commit (`handleCommandBatch`), with its own reply. */
export interface BatchCommand<S, C, X = undefined, R = undefined> {
  command: C;
  meta: CommandMeta;
  /** the command's reply, stored with its commit (never secrets); default none */
  reply?: (events: NewEvent[], state: S, input: X) => R;
}

/** What one attempt of a group commit wrote or found, handed to `afterCommit` before its commands are answered. */
export interface BatchCommitted<S, X = unknown> {
  /** the commits appended now, in stream order */
  appended: CommitDocument[];
  /** the earlier commits of commands whose id had been appended before */
  earlier: CommitDocument[];
  /**
   * When every commit decided in the attempt was appended: the state after them and its version (the loaded
   * state evolved in place, or the copy the later commands were decided on). Otherwise undefined: only a
   * prefix was written and the loaded state is untouched (the next load reads the prefix like any other commit).
   */
  committed?: { state: S; version: number };
  /** what `input` fetched for the attempt (e.g. the custom roles the commands were decided with) */
  input: X;
}

export type BatchOutcome<S, R> = { ok: true; result: CommandResult<S, R> } | { ok: false; error: unknown };

/** `handleCommand`'s plug-ins for several commands on one stream decided one after another and appended together. */
export interface RunBatch<S, C, X = undefined, R = undefined, L extends Loaded<S> = Loaded<S>> {
  store: EventStore;
  streamId: string;
  commands: Array<BatchCommand<S, C, X, R>>;
  decide: (command: C, state: S, meta: CommandMeta, input: X) => NewEvent[];
  evolve: (state: S, event: CatalogueEvent) => S;
  /** a copy of a state that can be evolved without changing the original (the loaded state must stay as loaded until the append) */
  copy: (state: S) => S;
  load: () => Promise<L>;
  /**
   * For a `load` that may give a stale state without reading the store (a cache trusted as it is): whether the
   * loaded state (as `afterCommit` left it) is still the stream's current one, called before answering the
   * refusals and no-ops that no append of the attempt vouches for. `false`: they are decided again, on a new
   * load (an attempt). Without it the load is taken as current.
   */
  confirm?: (loaded: L) => Promise<boolean>;
  findEarlier?: (commandId: string) => Promise<CommitDocument | null>;
  /**
   * Look the command ids up only for the refusals and no-ops, after deciding (together with the append), instead
   * of every command's before: a command that appends needs no look-up, the store's unique command-id index
   * refuses its second commit and the first one is its outcome.
   */
  lookUpRefusalsOnly?: boolean;
  /** fetched once per attempt, given the commands still to decide */
  input?: (loaded: L, commands: C[]) => Promise<X>;
  /** once per attempt that appended or found an earlier commit, before any of its commands is answered */
  afterCommit?: (done: BatchCommitted<S, X>, loaded: L) => Promise<void>;
  /** attempts after the first (default 5); then CONCURRENT_MODIFICATION for the commands still undecided */
  retries?: number;
  backoffMs?: number;
  conflictMessage?: string;
}

/**
 * Group commit: the commands queued on one stream, decided one after another — each on the state the ones
 * before it leave (their events folded into a copy of the loaded state), each refusal or no-op on that state
 * too — and their commits appended in one ordered insert (`store.appendSequence`), each commit with its own
 * command id and reply. The steps of `handleCommand`, per attempt: load, look every command id up (in
 * parallel; a hit is that command's outcome), input once, decide each, append together, afterCommit once.
 *
 * Exactness: a decision is final only when every commit decided before it in the attempt was appended.
 * The insert stops at the first commit refused (its position taken by another writer, or its command id
 * appended meanwhile — then that earlier commit is its outcome), so the decisions before it stand and the
 * ones after it (appends, refusals and no-ops alike, decided on a state that was never written) are decided
 * again on the next attempt's fresh load. A refused command does not affect the others: it appends nothing
 * and the next command is decided on the same state. Each command's result carries the state after the
 * batch (at or after its own commit). Outcomes are given per command, in the order given, never thrown.
 *
 * A load that does not read the store (`confirm`): an append at the loaded version proves the state was the
 * stream's current one when it was written (a commit after it would hold that position), so every decision
 * before the attempt's last appended commit stands; the refusals and no-ops after it (or of an attempt that
 * appended nothing) stand only when `confirm` says the state is still current, else they are decided again.
 */
export async function handleCommandBatch<S, C, X = undefined, R = undefined, L extends Loaded<S> = Loaded<S>>(
  run: RunBatch<S, C, X, R, L>,
): Promise<Array<BatchOutcome<S, R>>> {
  const { store, streamId, commands } = run;
  const retries = run.retries ?? 5;
  const findEarlier = run.findEarlier ?? store.findByCommand;
  const outcomes: Array<BatchOutcome<S, R> | undefined> = new Array(commands.length);
  let pending = commands.map((_, i) => i);
  let last: { state: S; version: number } | undefined;
  let conflicted = false;
  for (let attempt = 0; pending.length; attempt++) {
    try {
      pending = await attemptBatch();
    } catch (error) {
      // the database or an input failed: the commands not answered yet get the error (those answered keep theirs)
      for (const i of pending) outcomes[i] = { ok: false, error };
      break;
    }
    if (!pending.length) break;
    if (conflicted) {
      if (attempt >= retries) {
        const error = new DomainError(ErrorCode.CONCURRENT_MODIFICATION, run.conflictMessage ?? 'the resource was changed concurrently; try again');
        for (const i of pending) outcomes[i] = { ok: false, error };
        break;
      }
      await sleep(Math.random() * (run.backoffMs ?? 20) * (attempt + 1));
    }
  }
  // every result names the state after the batch (at or after its own command) and its own commit's version
  return outcomes.map((o) => (o!.ok && last ? { ok: true, result: { ...o!.result, state: last.state } } : o!));

  /** one attempt on the commands `pending`: answers what it can and returns those to decide again */
  async function attemptBatch(): Promise<number[]> {
    conflicted = false;
    const loaded = await run.load();
    last = loaded;
    const repeated = (commit: CommitDocument): BatchOutcome<S, R> => ({
      ok: true,
      result: { state: loaded.state, version: loaded.version, events: [], commit, duplicate: true, reply: commit.reply as R },
    });
    const hits = run.lookUpRefusalsOnly ? [] : await Promise.all(pending.map((i) => findEarlier(commands[i].meta.commandId)));
    const earlier: Array<{ i: number; commit: CommitDocument }> = [];
    const todo = pending.filter((i, k) => !(hits[k] && earlier.push({ i, commit: hits[k] })));
    const input = (
      todo.length && run.input
        ? await run.input(
            loaded,
            todo.map((i) => commands[i].command),
          )
        : undefined
    ) as X;

    let state = loaded.state;
    let version = loaded.version;
    let copied = false;
    let folded = 0; // commits whose events `state` holds
    const docs: CommitDocument[] = [];
    const decided: Array<{ i: number; outcome: BatchOutcome<S, R>; doc?: number; earlier?: CommitDocument }> = [];
    for (const [k, i] of todo.entries()) {
      const { command, meta, reply } = commands[i];
      try {
        const events = run.decide(command, state, meta, input);
        const answer = reply ? reply(events, state, input) : (undefined as R);
        if (events.length === 0) {
          decided.push({ i, outcome: { ok: true, result: { state, version, events, duplicate: false, reply: answer } } });
          continue;
        }
        const doc = store.prepare(streamId, version, events, { commandId: meta.commandId, meta, reply: reply ? (answer ?? null) : undefined });
        docs.push(doc);
        version = doc.toVersion;
        decided.push({ i, outcome: { ok: true, result: { state, version, events, commit: doc, duplicate: false, reply: answer } }, doc: docs.length - 1 });
        if (k < todo.length - 1) {
          if (!copied) state = run.copy(state);
          copied = true;
          state = doc.events.reduce(run.evolve, state);
          folded = docs.length;
        }
      } catch (error) {
        decided.push({ i, outcome: { ok: false, error } });
      }
    }

    // (lookUpRefusalsOnly) the refusals' and no-ops' look-ups, together with the append: a hit is the outcome
    const unappended = run.lookUpRefusalsOnly ? decided.filter((d) => d.doc === undefined) : [];
    const [{ appended, stopped }, looked] = await Promise.all([
      docs.length ? store.appendSequence(docs) : { appended: [], stopped: undefined },
      Promise.all(unappended.map((d) => findEarlier(commands[d.i].meta.commandId).catch((error: unknown) => ({ error })))),
    ]);
    unappended.forEach((d, k) => {
      const hit = looked[k];
      if (hit && 'error' in hit) d.outcome = { ok: false, error: hit.error };
      else if (hit) d.earlier = hit;
    });
    const cut = stopped ? decided.findIndex((d) => d.doc === stopped.index) : decided.length;
    let final = decided.slice(0, cut);
    let again = decided.slice(cut).map((d) => d.i);
    if (stopped && 'duplicate' in stopped) earlier.push({ i: again.shift()!, commit: stopped.duplicate });
    for (const d of final) if (d.earlier) earlier.push({ i: d.i, commit: d.earlier });
    final = final.filter((d) => !d.earlier);
    conflicted = !!stopped && 'conflict' in stopped;
    let committed: BatchCommitted<S, X>['committed'];
    if (!stopped && appended.length) {
      state = appended.slice(folded).reduce((s, c) => c.events.reduce(run.evolve, s), state);
      committed = { state, version };
      last = committed;
    }
    let failure: { error: unknown } | undefined;
    if (appended.length || earlier.length)
      await run
        .afterCommit?.({ appended, earlier: earlier.map((e) => e.commit), committed, input }, loaded)
        .catch((error: unknown) => void (failure = { error }));
    // refusals and no-ops after the last appended commit: decided on a state no append vouched for (a failed
    // confirm counts as a stale state: the next attempt's load reports a database that is down)
    let vouched = final.length;
    while (vouched > 0 && final[vouched - 1].doc === undefined) vouched--;
    if (run.confirm && vouched < final.length && !(await run.confirm(loaded).catch(() => false))) {
      again = [...final.slice(vouched).map((d) => d.i), ...again];
      final = final.slice(0, vouched);
      conflicted = true;
    }
    for (const d of final) outcomes[d.i] = failure && d.doc !== undefined ? { ok: false, error: failure.error } : d.outcome;
    for (const e of earlier) outcomes[e.i] = failure ? { ok: false, error: failure.error } : repeated(e.commit);
    return again;
  }
}
