import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { VerifyTokenController } from './queries/verify-token/verify-token.controller';
import { GetUserController } from './queries/get-user/get-user.controller';
import { bootstrapAdmin } from './commands/bootstrap-admin/bootstrap-admin.handler';
import { ensureUserIndexes } from './projections/users.projection';
import { startUsersCatchUp } from './projections/users.catch-up';

@Module({})
export class IdentityModule {
  static register(infra: Infrastructure): DynamicModule {
    class IdentityStartup implements OnApplicationBootstrap {
      async onApplicationBootstrap() {
        await ensureUserIndexes(infra.db);
        await bootstrapAdmin(infra, infra.config as ServiceConfig<'identity'>, infra.logger);
        await startUsersCatchUp(infra);
      }
    }
    return {
      module: IdentityModule,
      controllers: [VerifyTokenController, GetUserController],
      providers: [IdentityStartup],
    };
  }
}
