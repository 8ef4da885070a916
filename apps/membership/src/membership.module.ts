import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { bootstrapOrganization } from './commands/bootstrap-organization/bootstrap-organization.handler';

@Module({})
export class MembershipModule {
  static register(infra: Infrastructure): DynamicModule {
    class MembershipStartup implements OnApplicationBootstrap {
      async onApplicationBootstrap() {
        await bootstrapOrganization(infra, infra.config as ServiceConfig<'membership'>);
      }
    }
    return { module: MembershipModule, providers: [MembershipStartup] };
  }
}
