import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { bootstrapOrganization } from './commands/bootstrap-organization/bootstrap-organization.handler';
import { MembershipController, PEOPLE_PROJECTION_HANDLE, type ProjectionHandle } from './membership.controller';
import { startPeopleProjection } from './people/people.projection';
import { migrateBindingsOnce } from './migrations/migrate-bindings';
import { startCustomRoles } from './organization/organization.deps';

@Module({})
export class MembershipModule {
  static register(infra: Infrastructure): DynamicModule {
    const projection: ProjectionHandle = {};
    class MembershipStartup implements OnApplicationBootstrap {
      async onApplicationBootstrap() {
        // bindings written before they were membership's are imported before any command is decided
        await migrateBindingsOnce(infra, (r) =>
          infra.logger.info(
            { lastSequence: r.lastSequence, imported: r.imported.length },
            'role bindings of earlier versions imported into the organization streams',
          ),
        );
        await startCustomRoles(infra);
        projection.running = startPeopleProjection(infra);
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
