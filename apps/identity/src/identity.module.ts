import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventStore, OutboxRelay, Reservations, RunningProjection } from '@app/event-store';
import {
  EVENT_STORE,
  InjectConfig,
  LOGGER,
  METRICS_REGISTRY,
  MONGO_DB,
  OUTBOX_RELAY,
  RESERVATIONS,
  STREAM_CONSUMER_DEPS,
  type ServiceConfig,
  type StreamConsumerDeps,
} from '@app/platform';
import { VerifyTokenController } from './queries/verify-token/verify-token.controller';
import { GetUserController } from './queries/get-user/get-user.controller';
import { GetTokenMetadataController } from './queries/get-token-metadata/get-token-metadata.controller';
import { FindUsersController } from './queries/find-users/find-users.controller';
import { CreateAccountsController } from './commands/create-accounts/create-accounts.controller';
import { LoginController } from './commands/login/login.controller';
import { LogoutController } from './commands/logout/logout.controller';
import { ChangePasswordController } from './commands/change-password/change-password.controller';
import { ResetPasswordController } from './commands/reset-password/reset-password.controller';
import { ChangeProfileController } from './commands/change-profile/change-profile.controller';
import { ChangeEmailController } from './commands/change-email/change-email.controller';
import { ResetApiTokenController } from './commands/reset-api-token/reset-api-token.controller';
import { ServiceAccountCommandsController } from './commands/service-accounts/service-accounts.controller';
import { ServiceAccountQueriesController } from './queries/service-accounts/service-accounts.controller';
import { ensureServiceAccountIndexes } from './service-account/service-accounts.projection';
import { bootstrapAdmin } from './commands/bootstrap-admin/bootstrap-admin.handler';
import { ensureUserIndexes } from './projections/users.projection';
import { startUsersCatchUp } from './projections/users.catch-up';
import { ensureCredentialIndexes } from './credentials/credentials.repository';
import { loginMetrics } from './credentials/login-metrics';

import { userCommandsProvider } from './user/user-command.runner';
import { serviceAccountCommandsProvider } from './service-account/service-account-command.runner';

/** Indexes, the bootstrap admin and the users' catch-up projection, before the service answers; the projection stops on shutdown. */
@Injectable()
class IdentityStartup implements OnApplicationBootstrap, OnApplicationShutdown {
  private catchUp?: RunningProjection;

  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    @Inject(RESERVATIONS) private readonly reservations: Reservations,
    @Inject(STREAM_CONSUMER_DEPS) private readonly consumer: StreamConsumerDeps,
    @Inject(METRICS_REGISTRY) private readonly metrics: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectConfig() private readonly config: ServiceConfig<'identity'>,
  ) {}

  async onApplicationBootstrap() {
    const { db, store, relay, reservations } = this;
    await ensureUserIndexes(db);
    await ensureCredentialIndexes(db);
    await ensureServiceAccountIndexes(db);
    await bootstrapAdmin({ db, store, relay, reservations }, this.config, this.logger);
    this.catchUp = await startUsersCatchUp({ ...this.consumer, db, store });
    loginMetrics(this.metrics); // the counters are there (at 0) before the first login
  }

  async onApplicationShutdown() {
    await this.catchUp?.stop().catch(() => undefined);
  }
}

@Module({
  controllers: [
    VerifyTokenController,
    GetUserController,
    GetTokenMetadataController,
    FindUsersController,
    CreateAccountsController,
    LoginController,
    LogoutController,
    ChangePasswordController,
    ResetPasswordController,
    ChangeProfileController,
    ChangeEmailController,
    ResetApiTokenController,
    ServiceAccountCommandsController,
    ServiceAccountQueriesController,
  ],
  providers: [userCommandsProvider, serviceAccountCommandsProvider, IdentityStartup],
})
export class IdentityModule {}
