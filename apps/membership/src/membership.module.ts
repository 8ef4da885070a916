import { Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { EventStore, OutboxRelay, Reservations } from '@app/event-store';
import {
  EVENT_STORE,
  InjectConfig,
  LOGGER,
  MONGO_DB,
  NATS_CONNECTION,
  OUTBOX_RELAY,
  RESERVATIONS,
  STREAM_CONSUMER_DEPS,
  type ServiceConfig,
  type StreamConsumerDeps,
} from '@app/platform';
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
import { peopleViewProvider } from './queries/read-model';
import { migrateBindingsOnce } from './migrations/migrate-bindings';
import { customRolesViewProvider, ORGANIZATION_DEPS, organizationDepsProvider, warmOrganizationCache } from './organization/organization.deps';
import type { OrganizationDeps } from './organization/organization.repository';

/**
 * Before the service answers: bindings written before they were membership's are imported before any command is
 * decided, then the bootstrap organization. The views (custom roles, people) are providers started with the module.
 */
@Injectable()
class MembershipStartup implements OnApplicationBootstrap {
  constructor(
    @Inject(STREAM_CONSUMER_DEPS) private readonly consumer: StreamConsumerDeps,
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    @Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps,
    @Inject(RESERVATIONS) private readonly reservations: Reservations,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectConfig() private readonly config: ServiceConfig<'membership'>,
  ) {}

  async onApplicationBootstrap() {
    const { organizations, reservations, nc, logger, db, store, relay } = this;
    await migrateBindingsOnce({ ...this.consumer, db, store, relay }, (r) =>
      logger.info({ lastSequence: r.lastSequence, imported: r.imported.length }, 'role bindings of earlier versions imported into the organization streams'),
    );
    warmOrganizationCache(organizations, logger);
    await bootstrapOrganization({ organizations, reservations, nc, logger }, this.config);
  }
}

// one controller per use case (or small group of closely related patterns): commands change one organization's
// stream, queries read the in-memory people model after it caught up
@Module({
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
  providers: [customRolesViewProvider, organizationDepsProvider, peopleViewProvider, MembershipStartup],
})
export class MembershipModule {}
