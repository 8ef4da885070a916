import { Module, type DynamicModule } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { Infrastructure } from '@app/platform';
import { AccessRoles } from './access/access-roles';
import { ACCESS_VIEW } from './access/access.tokens';
import { startAccessView } from './view/view.consumer';
import { DEFAULT_SNAPSHOT_SCHEDULE, snapshotStore, type SnapshotSchedule } from './view/view-snapshot';
import { RoleCommandsController } from './commands/roles/roles.controller';
import { CheckController } from './queries/check/check.controller';
import { CustomRolesController } from './queries/custom-roles/custom-roles.controller';
import { RoleQueriesController } from './queries/roles/roles.controller';
import { EffectivePermissionsController } from './queries/effective-permissions/effective-permissions.controller';
import { ProjectMembersController } from './queries/project-members/project-members.controller';

export interface AuthorizationOptions {
  /** when the view writes its snapshots (docs/authorization.md, "Snapshots"); `false`: neither read nor write them */
  snapshots?: Partial<SnapshotSchedule> | false;
}

@Module({})
export class AuthorizationModule {
  static register(infra: Infrastructure, options: AuthorizationOptions = {}): DynamicModule {
    return {
      module: AuthorizationModule,
      controllers: [
        RoleCommandsController,
        CheckController,
        CustomRolesController,
        RoleQueriesController,
        EffectivePermissionsController,
        ProjectMembersController,
      ],
      providers: [
        { provide: AccessRoles, useFactory: () => new AccessRoles(infra.store) },
        {
          provide: ACCESS_VIEW,
          useFactory: async () => {
            let snapshotSequence = 0;
            let snapshots: Parameters<typeof startAccessView>[0]['snapshots'];
            if (options.snapshots !== false) {
              const store = snapshotStore(infra.db);
              await store.ensureIndexes();
              snapshots = { store, schedule: { ...DEFAULT_SNAPSHOT_SCHEDULE, ...options.snapshots }, onWritten: (head) => (snapshotSequence = head.sequence) };
            }
            const running = await startAccessView({
              js: infra.js,
              jsm: infra.jsm,
              naming: infra.naming,
              snapshots,
              logger: infra.logger,
              onPoison: () => infra.deadLetters.inc({ projection: 'authorization-view' }),
              metrics: infra.consumerMetrics,
            });
            infra.onClose.push(() => running.stop());
            const view = running.view;
            snapshotSequence = running.startedFrom;
            new Gauge({
              name: 'authorization_view_sequence',
              help: 'last events-stream sequence applied to the in-memory authorization view',
              registers: [infra.metrics],
              collect() {
                this.set(view.sequence);
              },
            });
            new Gauge({
              name: 'authorization_view_snapshot_sequence',
              help: 'sequence of the newest view snapshot this replica restored or wrote (0: none)',
              registers: [infra.metrics],
              collect() {
                this.set(snapshotSequence);
              },
            });
            return view;
          },
        },
      ],
    };
  }
}
