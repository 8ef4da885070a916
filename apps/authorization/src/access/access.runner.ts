import type { CommandMeta, DomainEvent } from '@app/contracts';
import { handleCommand, type EventStore, type OutboxRelay } from '@app/event-store';
import type { AccessView } from '../view/access-view';
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
 * Runs one command on `access-<organizationId>` through the store's runner (`handleCommand`), deciding on the
 * in-memory view:
 * 1. the view catches up with everything in the events stream when the command arrived (membership facts);
 * 2. (load) the stream's current version v is read; the command id is looked up; (ready) the view waits until
 *    it has applied the access stream up to v, so the decision sees every role and binding committed before it
 *    (and none after: if the view is already past v, back to 2);
 * 3. decide on the view, append at v + 1 (optimistic concurrency): if another command got there first, go
 *    back to 2 — e.g. two Owners demoting each other: the second is decided again on a view that has the first;
 * 4. (after the commit) publish before replying (the outbox fast path) and wait until this replica's view has
 *    the new events, so the next check anywhere is evaluated on the new state.
 * A command id that was appended before returns its first events and appends nothing.
 */
export async function runAccessCommand(deps: AccessDeps, command: AccessCommand, meta: CommandMeta): Promise<AccessResult> {
  const { store, relay, view } = deps;
  const { organizationId } = command;
  const streamId = accessStreamId(organizationId);
  await view.catchUp();
  const result = await handleCommand({
    store,
    streamId,
    command,
    meta,
    decide: decideAccess,
    // the version first, then the command id (the runner's order): if the same command is appended in
    // between, the look-up finds it; if it is appended after the look-up, the append conflicts and the next
    // attempt finds it. The state is the view, live: `ready` makes it the state at that version.
    load: async () => ({ state: view.org(organizationId), version: await streamVersion(store, streamId) }),
    ready: async ({ version }) => {
      await view.waitForAccessVersion(organizationId, version);
      // the view may already hold commits appended after `version` was read (perhaps this very command, sent
      // twice): a decision must see exactly the state it appends after, so read the version and command id again
      return view.org(organizationId).accessVersion <= version;
    },
    afterCommit: async ({ commit }) => {
      await relay.flushStream(streamId);
      await view.waitForAccessVersion(organizationId, commit.toVersion);
    },
    retries: 10,
    conflictMessage: 'the organization’s roles were changed concurrently; try again',
  });
  return { events: result.commit?.events ?? [], duplicate: result.duplicate };
}
