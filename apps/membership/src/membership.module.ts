import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { bootstrapOrganization } from './commands/bootstrap-organization/bootstrap-organization.handler';
import { MembershipController, PEOPLE_PROJECTION_HANDLE, type ProjectionHandle } from './membership.controller';
import { startPeopleProjection } from './people/people.projection';

@Module({})
export class MembershipModule {
  static register(infra: Infrastructure): DynamicModule {
    const projection: ProjectionHandle = {};
    class MembershipStartup implements OnApplicationBootstrap {
      async onApplicationBootstrap() {
        projection.running = await startPeopleProjection(infra);
        await bootstrapOrganization(infra, infra.config as ServiceConfig<'membership'>);
      }
    }
    return {
      module: MembershipModule,
      controllers: [MembershipController],
      providers: [MembershipStartup, { provide: PEOPLE_PROJECTION_HANDLE, useValue: projection }],
    };
  }
}
