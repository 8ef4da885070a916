import type { CommandMeta } from '@app/contracts';
import type { FactoryProvider } from '@nestjs/common';
import type { Db } from 'mongodb';
import { handleCommand, type CommandResult, type EventStore, type OutboxRelay } from '@app/event-store';
import { EVENT_STORE, MONGO_DB, OUTBOX_RELAY } from '@app/platform';
import { upToCommit, type CommandDeps } from '../user/user-command.runner';
import { projectServiceAccountEvents, serviceAccountsCollection } from './service-accounts.projection';
import { serviceAccountDecider, type ServiceAccountCommand } from './service-account.decider';
import { serviceAccountStreamId, type ServiceAccountState } from './service-account.state';

export type ServiceAccountCommandResult = CommandResult<ServiceAccountState>;
export type ServiceAccountCommandRunner = (command: ServiceAccountCommand, meta: CommandMeta) => Promise<ServiceAccountCommandResult>;

/** `@Inject(SERVICE_ACCOUNT_COMMANDS) run: ServiceAccountCommandRunner` */
export const SERVICE_ACCOUNT_COMMANDS = Symbol('ServiceAccountCommandRunner');
export const serviceAccountCommandsProvider: FactoryProvider<ServiceAccountCommandRunner> = {
  provide: SERVICE_ACCOUNT_COMMANDS,
  useFactory: (db: Db, store: EventStore, relay: OutboxRelay) => serviceAccountCommandRunner({ db, store, relay }),
  inject: [MONGO_DB, EVENT_STORE, OUTBOX_RELAY],
};

/**
 * Runs one service-account command through the store's runner and, once it has a commit, brings the read model
 * up to it and waits for JetStream to have its events (as `runUserCommand`): a revoked token, a deactivated or
 * deleted account is refused by the very next verification, at identity and at every gateway's cache.
 */
export const serviceAccountCommandRunner =
  (deps: CommandDeps): ServiceAccountCommandRunner =>
  (command, meta) => {
    const streamId = serviceAccountStreamId(command.serviceAccountId);
    return handleCommand({
      ...serviceAccountDecider,
      store: deps.store,
      streamId,
      command,
      meta,
      retries: 10,
      afterCommit: upToCommit(deps, streamId, command.serviceAccountId, { project: projectServiceAccountEvents, collection: serviceAccountsCollection }),
    });
  };
