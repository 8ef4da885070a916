import type { FactoryProvider } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import { AuthorizationSubjects, type CommandMeta, type RolesReply, type RolesRequest } from '@app/contracts';
import type { EventStore, OutboxRelay } from '@app/event-store';
import type { Registry } from 'prom-client';
import {
  EVENT_STORE,
  METRICS_REGISTRY,
  MONGO_DB,
  NATS_CONNECTION,
  OUTBOX_RELAY,
  STREAM_CONSUMER_DEPS,
  stoppedOnShutdown,
  type StreamConsumerDeps,
} from '@app/platform';
import { callService } from '../common/rpc';
import { startCustomRolesView, type CustomRolesView } from './custom-roles';
import { customRolesSnapshotStore } from './custom-roles-snapshot';
import { OrganizationCache, warmOrganizations, type OrganizationDeps } from './organization.repository';
import { organizationMetrics } from './organization.metrics';

/** `@Inject(CUSTOM_ROLES_VIEW) view: CustomRolesView`: this process's view of the custom roles (docs/membership.md "The role change's work"). */
export const CUSTOM_ROLES_VIEW = Symbol('CustomRolesView');
export const customRolesViewProvider: FactoryProvider<CustomRolesView> = {
  provide: CUSTOM_ROLES_VIEW,
  // started with the module, stopped on shutdown (before the connections close)
  useFactory: async (consumer: StreamConsumerDeps, db: Db) =>
    stoppedOnShutdown(await startCustomRolesView({ ...consumer, snapshots: { store: customRolesSnapshotStore(db) } })),
  inject: [STREAM_CONSUMER_DEPS, MONGO_DB],
};

/** What the organization's commands take from the outside world. */
export interface OrganizationWorld {
  db: Db;
  store: EventStore;
  relay: OutboxRelay;
  nc: NatsConnection;
  metrics: Registry;
}

/**
 * The store, an organization cache, the relay and the custom roles (asked right before each decision that
 * weighs roles) of one running membership service: from this process's view of the role events when it has
 * applied the events stream up to now, else (starting up, or no view) from authorization. One per process
 * (`ORGANIZATION_DEPS`): the cache is shared by its commands.
 */
export function organizationDeps(world: OrganizationWorld, view?: Pick<CustomRolesView, 'current'>): OrganizationDeps {
  const ask = async (organizationId: string, meta: CommandMeta) =>
    (await callService<RolesReply>(world, AuthorizationSubjects.roles(), { organizationId } satisfies RolesRequest, meta)).roles;
  return {
    db: world.db,
    store: world.store,
    cache: new OrganizationCache(),
    flush: (streamId) => world.relay.flushStream(streamId),
    customRoles: async (organizationId, meta) => (await view?.current(organizationId)) ?? ask(organizationId, meta),
    metrics: organizationMetrics(world.metrics),
  };
}

/** `@Inject(ORGANIZATION_DEPS) organizations: OrganizationDeps` */
export const ORGANIZATION_DEPS = Symbol('OrganizationDeps');
export const organizationDepsProvider: FactoryProvider<OrganizationDeps> = {
  provide: ORGANIZATION_DEPS,
  useFactory: (db: Db, store: EventStore, relay: OutboxRelay, nc: NatsConnection, metrics: Registry, view: CustomRolesView) =>
    organizationDeps({ db, store, relay, nc, metrics }, view),
  inject: [MONGO_DB, EVENT_STORE, OUTBOX_RELAY, NATS_CONNECTION, METRICS_REGISTRY, CUSTOM_ROLES_VIEW],
};

/** Loads the recently changed organizations into this process's cache, in the background (docs/membership.md "Cold organizations"). */
export function warmOrganizationCache(
  organizations: OrganizationDeps,
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
): void {
  const began = Date.now();
  void warmOrganizations(organizations).then(
    (count) => logger.info({ organizations: count, ms: Date.now() - began }, 'organization cache warmed'),
    (err: Error) => logger.warn({ err: err.message }, 'warming the organization cache failed; organizations load on their first command'),
  );
}
