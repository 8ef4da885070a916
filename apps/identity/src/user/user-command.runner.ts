import { DomainError, type CommandMeta, type ErrorCode } from '@app/contracts';
import { handleCommand, type CommandResult } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { projectUserEvents, usersCollection } from '../projections/users.projection';
import { userDecider, type UserCommand } from './user.decider';
import { userStreamId, type UserState } from './user.state';

export type UserCommandResult = CommandResult<UserState>;

/**
 * Runs one user command through the store's runner (load → decide → append) and, once it has a commit (new
 * or, for a repeated command id, its first), brings identity's users read model up to it before returning, so
 * the caller's next request reads its own write (and a revocation is seen by the very next token
 * verification, at identity and, through the events stream, at every gateway).
 */
export function runUserCommand(infra: Infrastructure, command: UserCommand, meta: CommandMeta, opts: { retries?: number } = {}): Promise<UserCommandResult> {
  const streamId = userStreamId(command.userId);
  return handleCommand({
    ...userDecider,
    store: infra.store,
    streamId,
    command,
    meta,
    retries: opts.retries,
    afterCommit: async ({ commit }) => {
      for (let i = 0; i < 5; i++) {
        await projectUserEvents(infra.db, await infra.store.readStream(streamId));
        const doc = await usersCollection(infra.db).findOne({ _id: command.userId }, { projection: { version: 1 } });
        if ((doc?.version ?? 0) >= commit.toVersion) break;
      }
      // awaited: the gateways' token caches learn of a revocation from the events stream, and a request reads
      // the stream's last sequence when it arrives, so the command answers once its event is in JetStream
      // (a broker that is down: the caches still re-verify every minute, docs/identity.md)
      await infra.relay.flushStream(streamId).catch(() => undefined);
    },
  });
}

/**
 * Changes a value that is unique regardless of case (username, email): claims the lowercased new value,
 * runs the command, confirms the claim and releases the old value; releases the claim when the command
 * fails. A change of case only keeps the same claim.
 */
export async function changeUniqueValue(
  infra: Infrastructure,
  opts: { kind: 'username' | 'email'; userId: string; oldValue: string; newValue: string; takenCode: ErrorCode; takenMessage: string },
  run: () => Promise<UserCommandResult>,
): Promise<UserCommandResult> {
  const { kind, userId } = opts;
  const newKey = opts.newValue.toLowerCase();
  const oldKey = opts.oldValue.toLowerCase();
  const moving = newKey !== oldKey;
  if (moving && !(await infra.reservations.claim(kind, newKey, userId))) throw new DomainError(opts.takenCode, opts.takenMessage);
  let result: UserCommandResult;
  try {
    result = await run();
  } catch (err) {
    if (moving) await infra.reservations.release(kind, newKey, userId);
    throw err;
  }
  if (moving) {
    await infra.reservations.confirm(kind, newKey, userId);
    const now = (kind === 'username' ? result.state.username : result.state.email)?.toLowerCase();
    if (now === newKey) await infra.reservations.release(kind, oldKey, userId);
    else await infra.reservations.release(kind, newKey, userId);
  }
  return result;
}
