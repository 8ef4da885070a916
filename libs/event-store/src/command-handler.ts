import { DomainError, ErrorCode, type CatalogueEvent, type CommandMeta, type NewEvent } from '@app/contracts';
import { ConcurrencyError } from './errors';
import type { EventStore } from './event-store';
import type { CommitDocument } from './commit';

export interface Decider<S, C> {
  initialState: S;
  /** folds one event of the aggregate's stream (of the catalogue: checked when appended, upcast when read) */
  evolve: (state: S, event: CatalogueEvent) => S;
  /** pure: returns the events the command causes (empty when there is nothing to do) or throws a DomainError */
  decide: (command: C, state: S, meta: CommandMeta) => NewEvent[];
}

export interface HandleResult<S> {
  /** the state after the command */
  state: S;
  version: number;
  commit?: CommitDocument;
  /** true when the command id had been handled before and nothing new was appended */
  duplicate: boolean;
}

/**
 * Load → decide → append, retried on a concurrency conflict so that every decision is made on the latest
 * state (this is what keeps invariants under concurrent commands). A command id that was already appended
 * returns its first commit and appends nothing.
 */
export async function handleCommand<S, C>(
  store: EventStore,
  decider: Decider<S, C>,
  streamId: string,
  command: C,
  meta: CommandMeta,
  opts: { retries?: number; reply?: (events: NewEvent[]) => unknown } = {},
): Promise<HandleResult<S>> {
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    // load first, then look the command id up: if the look-up misses, any copy of this command appended
    // later conflicts with our append, and the retry finds it (the other order could decide a retried
    // command on a state that already holds its first run, and refuse it)
    const { state, version } = await store.load(streamId, decider.evolve, decider.initialState);
    const earlier = await store.findByCommand(meta.commandId);
    if (earlier) return { state, version, commit: earlier, duplicate: true };
    const events = decider.decide(command, state, meta);
    if (events.length === 0) return { state, version, duplicate: false };
    try {
      const result = await store.append(streamId, version, events, {
        commandId: meta.commandId,
        meta,
        reply: opts.reply?.(events),
      });
      if (result.status === 'duplicate') {
        const reloaded = await store.load(streamId, decider.evolve, decider.initialState);
        return { ...reloaded, commit: result.commit, duplicate: true };
      }
      const stored = result.commit.events.reduce(decider.evolve, state);
      return { state: stored, version: result.commit.toVersion, commit: result.commit, duplicate: false };
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      if (attempt >= retries) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'the resource was changed concurrently; try again');
    }
  }
}
