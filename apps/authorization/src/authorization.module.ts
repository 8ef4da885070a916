import { Module, type DynamicModule } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { Db } from 'mongodb';
import type { Registry } from 'prom-client';
import type { EventStore } from '@app/event-store';
import { EVENT_STORE, METRICS_REGISTRY, MONGO_DB, STREAM_CONSUMER_DEPS, stoppedOnShutdown, type StreamConsumerDeps } from '@app/platform';
import { AccessRoles } from './access/access-roles';
import { ACCESS_VIEW } from './access/access.tokens';
import { startAccessView, type RunningAccessView } from './view/view.consumer';
import { DEFAULT_SNAPSHOT_SCHEDULE, snapshotStore, type SnapshotSchedule } from './view/view-snapshot';
import { RoleCommandsController } from './commands/roles/roles.controller';
import { CheckController } from './queries/check/check.controller';
import { OrgAccessController } from './queries/org-access/org-access.controller';
import { CustomRolesController } from './queries/custom-roles/custom-roles.controller';
import { RoleQueriesController } from './queries/roles/roles.controller';
import { EffectivePermissionsController } from './queries/effective-permissions/effective-permissions.controller';
import { ProjectMembersController } from './queries/project-members/project-members.controller';

export interface AuthorizationOptions {
  /** when the view writes its snapshots (docs/authorization.md, "Snapshots"); `false`: neither read nor write them */
  snapshots?: Partial<SnapshotSchedule> | false;
}

/** The running view (stopped on shutdown, before the connections close); its `view` is `ACCESS_VIEW`. */
const RUNNING_ACCESS_VIEW = Symbol('RunningAccessView');

async function startView(consumer: StreamConsumerDeps, db: Db, metrics: Registry, options: AuthorizationOptions): Promise<RunningAccessView> {
  let snapshotSequence = 0;
  let snapshots: Parameters<typeof startAccessView>[0]['snapshots'];
  if (options.snapshots !== false) {
    const store = snapshotStore(db);
    await store.ensureIndexes();
    snapshots = { store, schedule: { ...DEFAULT_SNAPSHOT_SCHEDULE, ...options.snapshots }, onWritten: (head) => (snapshotSequence = head.sequence) };
  }
  const running = await startAccessView({
    js: consumer.js,
    jsm: consumer.jsm,
    naming: consumer.naming,
    snapshots,
    logger: consumer.logger,
    onPoison: () => consumer.deadLetters.inc({ projection: 'authorization-view' }),
    metrics: consumer.consumerMetrics,
  });
  const view = running.view;
  snapshotSequence = running.startedFrom;
  new Gauge({
    name: 'authorization_view_sequence',
    help: 'last events-stream sequence applied to the in-memory authorization view',
    registers: [metrics],
    collect() {
      this.set(view.sequence);
    },
  });
  new Gauge({
    name: 'authorization_view_snapshot_sequence',
    help: 'sequence of the newest view snapshot this replica restored or wrote (0: none)',
    registers: [metrics],
    collect() {
      this.set(snapshotSequence);
    },
  });
  return running;
}

@Module({})
export class AuthorizationModule {
  static register(options: AuthorizationOptions = {}): DynamicModule {
    return {
      module: AuthorizationModule,
      controllers: [
        RoleCommandsController,
        CheckController,
        OrgAccessController,
        CustomRolesController,
        RoleQueriesController,
        EffectivePermissionsController,
        ProjectMembersController,
      ],
      providers: [
        { provide: AccessRoles, useFactory: (store: EventStore) => new AccessRoles(store), inject: [EVENT_STORE] },
        {
          provide: RUNNING_ACCESS_VIEW,
          useFactory: async (consumer: StreamConsumerDeps, db: Db, metrics: Registry) => stoppedOnShutdown(await startView(consumer, db, metrics, options)),
          inject: [STREAM_CONSUMER_DEPS, MONGO_DB, METRICS_REGISTRY],
        },
        { provide: ACCESS_VIEW, useFactory: (running: RunningAccessView) => running.view, inject: [RUNNING_ACCESS_VIEW] },
      ],
    };
  }
}
