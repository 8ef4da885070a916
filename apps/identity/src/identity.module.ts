import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure, ServiceConfig } from '@app/platform';
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

@Module({})
export class IdentityModule {
  static register(infra: Infrastructure): DynamicModule {
    class IdentityStartup implements OnApplicationBootstrap {
      async onApplicationBootstrap() {
        await ensureUserIndexes(infra.db);
        await ensureCredentialIndexes(infra.db);
        await ensureServiceAccountIndexes(infra.db);
        await bootstrapAdmin(infra, infra.config as ServiceConfig<'identity'>, infra.logger);
        await startUsersCatchUp(infra);
        loginMetrics(infra.metrics); // the counters are there (at 0) before the first login
      }
    }
    return {
      module: IdentityModule,
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
      providers: [IdentityStartup],
    };
  }
}
