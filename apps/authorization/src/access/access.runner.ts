import { DomainError, ErrorCode, type CommandMeta, type DomainEvent } from '@app/contracts';
import { ConcurrencyError, type EventStore, type OutboxRelay } from '@app/event-store';
import type { AccessView } from '../model/access-view';
import { accessStreamId, decideAccess, type AccessCommand } from './access.decider';

export interface AccessDeps {
  store: EventStore;
  relay: OutboxRelay;
  view: AccessView;
}

export interface AccessResult {
  /** the events the command appended (or, for a repeated command id, those it appended the first time) */
  events: DomainEvent[];
  duplicate: boolean;
}

async function streamVersion(store: EventStore, streamId: string): Promise<number> {
  const [last] = await store.commits
    .find({ streamId }, { projection: { toVersion: 1 } })
    .sort({ fromVersion: -1 })
    .limit(1)
    .toArray();
  return last?.toVersion ?? 0;
}

/**
 * Runs one command on `access-<organizationId>`:
 * 1. the view catches up with everything in the events stream when the command arrived (membership facts);
 * 2. the stream's current version v is read and the view waits until it has applied the access stream up to v,
 *    so the decision sees every role and binding committed before it (and none after: if the view is already
 *    past v, back to 2);
 * 3. decide on the view, append at v + 1 (optimistic concurrency): if another command got there first, go
 *    back to 2 — e.g. two Owners demoting each other: the second is decided again on a view that has the first;
 * 4. publish before replying (the outbox fast path) and wait until this replica's view has the new events, so
 *    the next check anywhere is evaluated on the new state.
 * A command id that was appended before returns its first events and appends nothing.
 */
export async function runAccessCommand(deps: AccessDeps, command: AccessCommand, meta: CommandMeta): Promise<AccessResult> {
  const { store, relay, view } = deps;
  const streamId = accessStreamId(command.organizationId);
  await view.catchUp();
  for (let attempt = 0; ; attempt++) {
    // the version first, then the command id: if the same command is appended in between, the look-up finds
    // it; if it is appended after the look-up, the append below conflicts and the next attempt finds it
    const version = await streamVersion(store, streamId);
    const earlier = await store.findByCommand(meta.commandId);
    if (earlier) {
      await view.waitForAccessVersion(command.organizationId, earlier.toVersion);
      return { events: earlier.events, duplicate: true };
    }
    await view.waitForAccessVersion(command.organizationId, version);
    // the view may already hold commits appended after `version` was read (perhaps this very command, sent
    // twice): a decision must see exactly the state it appends after, so read the version and command id again
    if (view.org(command.organizationId).accessVersion > version) {
      if (attempt >= 10) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'the organization’s roles were changed concurrently; try again');
      continue;
    }
    const events = decideAccess(command, view.org(command.organizationId), meta);
    if (events.length === 0) return { events: [], duplicate: false };
    try {
      const result = await store.append(streamId, version, events, { commandId: meta.commandId, meta });
      await relay.flushStream(streamId);
      await view.waitForAccessVersion(command.organizationId, result.commit.toVersion);
      return { events: result.commit.events, duplicate: result.status === 'duplicate' };
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      if (attempt >= 10) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'the organization’s roles were changed concurrently; try again');
    }
  }
}
