import type { CommandMeta } from '@app/contracts';
import { handleCommand, type CommandResult } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { projectServiceAccountEvents, serviceAccountsCollection } from './service-accounts.projection';
import { serviceAccountDecider, type ServiceAccountCommand } from './service-account.decider';
import { serviceAccountStreamId, type ServiceAccountState } from './service-account.state';

export type ServiceAccountCommandResult = CommandResult<ServiceAccountState>;

/**
 * Runs one service-account command through the store's runner and, once it has a commit, brings the read model
 * up to it and waits for JetStream to have its events (as `runUserCommand`): a revoked token, a deactivated or
 * deleted account is refused by the very next verification, at identity and at every gateway's cache.
 */
export function runServiceAccountCommand(infra: Infrastructure, command: ServiceAccountCommand, meta: CommandMeta): Promise<ServiceAccountCommandResult> {
  const streamId = serviceAccountStreamId(command.serviceAccountId);
  return handleCommand({
    ...serviceAccountDecider,
    store: infra.store,
    streamId,
    command,
    meta,
    retries: 10,
    afterCommit: async ({ commit }) => {
      for (let i = 0; i < 5; i++) {
        await projectServiceAccountEvents(infra.db, await infra.store.readStream(streamId));
        const doc = await serviceAccountsCollection(infra.db).findOne({ _id: command.serviceAccountId }, { projection: { version: 1 } });
        if ((doc?.version ?? 0) >= commit.toVersion) break;
      }
      await infra.relay.flushStream(streamId).catch(() => undefined);
    },
  });
}
