import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { bootstrapOrganization } from './commands/bootstrap-organization/bootstrap-organization.handler';
import { CreateOrganizationController } from './commands/create-organization/create-organization.controller';
import { AddPeopleController } from './commands/add-people/add-people.controller';
import { CreateAccountsController } from './commands/create-accounts/create-accounts.controller';
import { RemovePersonController } from './commands/remove-person/remove-person.controller';
import { ResetMemberPasswordController } from './commands/reset-member-password/reset-member-password.controller';
import { AssignRoleController } from './commands/assign-role/assign-role.controller';
import { UnassignRoleController } from './commands/unassign-role/unassign-role.controller';
import { GroupCommandsController } from './commands/groups/groups.controller';
import { ProjectCommandsController } from './commands/projects/projects.controller';
import { AddServiceAccountController } from './commands/add-service-account/add-service-account.controller';
import { ServiceAccountRolesController } from './queries/service-account-roles/service-account-roles.controller';
import { OrganizationsController } from './queries/organizations/organizations.controller';
import { ListPeopleController } from './queries/list-people/list-people.controller';
import { GroupQueriesController } from './queries/groups/groups.controller';
import { ProjectQueriesController } from './queries/projects/projects.controller';
import { PEOPLE_VIEW_HANDLE, type PeopleViewHandle } from './queries/read-model';
import { startPeopleView } from './people/people.consumer';
import { migrateBindingsOnce } from './migrations/migrate-bindings';
import { startCustomRoles } from './organization/organization.deps';

@Module({})
export class MembershipModule {
  static register(infra: Infrastructure): DynamicModule {
    const people: PeopleViewHandle = {};
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
        // the people model in memory, in the background: the newest snapshot, then the events stream (queries wait for it)
        people.relay = infra.relay;
        people.running = startPeopleView(infra);
        people.running.catch((err: Error) => infra.logger.error({ reason: err.message }, 'the people view did not start'));
        infra.onClose.push(async () => (await people.running?.catch(() => undefined))?.stop());
        await bootstrapOrganization(infra, infra.config as ServiceConfig<'membership'>);
      }
    }
    return {
      module: MembershipModule,
      // one controller per use case (or small group of closely related patterns): commands change one
      // organization's stream, queries read the in-memory people model after it caught up
      controllers: [
        CreateOrganizationController,
        AddPeopleController,
        CreateAccountsController,
        RemovePersonController,
        ResetMemberPasswordController,
        AssignRoleController,
        UnassignRoleController,
        GroupCommandsController,
        ProjectCommandsController,
        OrganizationsController,
        ListPeopleController,
        GroupQueriesController,
        ProjectQueriesController,
        AddServiceAccountController,
        ServiceAccountRolesController,
      ],
      providers: [MembershipStartup, { provide: PEOPLE_VIEW_HANDLE, useValue: people }],
    };
  }
}
