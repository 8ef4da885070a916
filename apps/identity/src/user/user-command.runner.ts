import { DomainError, type CatalogueEvent, type CommandMeta, type ErrorCode } from '@app/contracts';
import type { FactoryProvider } from '@nestjs/common';
import type { Collection, Db, Filter } from 'mongodb';
import { handleCommand, type CommandResult, type CommitDocument, type EventStore, type OutboxRelay, type Reservations } from '@app/event-store';
import { EVENT_STORE, MONGO_DB, OUTBOX_RELAY } from '@app/platform';
import { projectUserEvents, usersCollection } from '../projections/users.projection';
import { userDecider, type UserCommand } from './user.decider';
import { userStreamId, type UserState } from './user.state';

export type UserCommandResult = CommandResult<UserState>;
export type UserCommandRunner = (command: UserCommand, meta: CommandMeta, opts?: { retries?: number }) => Promise<UserCommandResult>;
/** What identity's command runners (users, service accounts) write to: the store, the read models, the relay. */
export interface CommandDeps {
  db: Db;
  store: EventStore;
  relay: OutboxRelay;
}

/** A read model with one document per stream: `_id` the entity's id, `version` the stream version it holds. */
export interface StreamReadModel<D extends { _id: string; version: number }> {
  project(db: Db, events: CatalogueEvent[]): Promise<void>;
  collection(db: Db): Collection<D>;
}

/**
 * What identity's command runners do once a command has a commit (new or, for a repeated command id, its
 * first): bring the read model's document `id` up to it (at most 5 tries), then wait until JetStream has the
 * stream's events. Awaited: the gateways' token caches learn of a revocation from the events stream, and a
 * request reads the stream's last sequence when it arrives, so the command answers once its event is in
 * JetStream (a broker that is down: the caches still re-verify every minute, docs/identity.md).
 */
export const upToCommit =
  <D extends { _id: string; version: number }>(deps: CommandDeps, streamId: string, id: string, model: StreamReadModel<D>) =>
  async ({ commit }: { commit: CommitDocument }): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      await model.project(deps.db, await deps.store.readStream(streamId));
      const doc = await model.collection(deps.db).findOne<{ version: number }>({ _id: id } as Filter<D>, { projection: { version: 1 } });
      if ((doc?.version ?? 0) >= commit.toVersion) break;
    }
    await deps.relay.flushStream(streamId).catch(() => undefined);
  };

/** `@Inject(USER_COMMANDS) run: UserCommandRunner` */
export const USER_COMMANDS = Symbol('UserCommandRunner');
export const userCommandsProvider: FactoryProvider<UserCommandRunner> = {
  provide: USER_COMMANDS,
  useFactory: (db: Db, store: EventStore, relay: OutboxRelay) => userCommandRunner({ db, store, relay }),
  inject: [MONGO_DB, EVENT_STORE, OUTBOX_RELAY],
};

/**
 * Runs one user command through the store's runner (load → decide → append) and, once it has a commit (new
 * or, for a repeated command id, its first), brings identity's users read model up to it before returning, so
 * the caller's next request reads its own write (and a revocation is seen by the very next token
 * verification, at identity and, through the events stream, at every gateway).
 */
export const userCommandRunner =
  (deps: CommandDeps): UserCommandRunner =>
  (command, meta, opts = {}) => {
    const streamId = userStreamId(command.userId);
    return handleCommand({
      ...userDecider,
      store: deps.store,
      streamId,
      command,
      meta,
      retries: opts.retries,
      afterCommit: upToCommit(deps, streamId, command.userId, { project: projectUserEvents, collection: usersCollection }),
    });
  };

/**
 * Changes a value that is unique regardless of case (username, email): claims the lowercased new value,
 * runs the command, confirms the claim and releases the old value; releases the claim when the command
 * fails. A change of case only keeps the same claim.
 */
export async function changeUniqueValue(
  reservations: Reservations,
  opts: { kind: 'username' | 'email'; userId: string; oldValue: string; newValue: string; takenCode: ErrorCode; takenMessage: string },
  run: () => Promise<UserCommandResult>,
): Promise<UserCommandResult> {
  const { kind, userId } = opts;
  const newKey = opts.newValue.toLowerCase();
  const oldKey = opts.oldValue.toLowerCase();
  const moving = newKey !== oldKey;
  if (moving && !(await reservations.claim(kind, newKey, userId))) throw new DomainError(opts.takenCode, opts.takenMessage);
  let result: UserCommandResult;
  try {
    result = await run();
  } catch (err) {
    if (moving) await reservations.release(kind, newKey, userId);
    throw err;
  }
  if (moving) {
    await reservations.confirm(kind, newKey, userId);
    const now = (kind === 'username' ? result.state.username : result.state.email)?.toLowerCase();
    if (now === newKey) await reservations.release(kind, oldKey, userId);
    else await reservations.release(kind, newKey, userId);
  }
  return result;
}
