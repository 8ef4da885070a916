import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { ListEntriesController } from './queries/list-entries/list-entries.controller';
import { RebuildController } from './commands/rebuild/rebuild.controller';
import { ApplyRetentionController } from './commands/apply-retention/apply-retention.controller';
import { ReplayDeadLettersController } from './commands/replay-dead-letters/replay-dead-letters.controller';
import { ensureAuditIndexes } from './projections/audit.projection';
import { AuditProjectionHost } from './projections/audit-projection.host';
import { AUDIT_HOST } from './projections/audit-host.token';
import { scheduleRetention } from './retention/retention.job';

@Module({})
export class AuditLogModule {
  static register(infra: Infrastructure): DynamicModule {
    const host = new AuditProjectionHost(infra);
    class AuditStartup implements OnApplicationBootstrap {
      async onApplicationBootstrap() {
        await ensureAuditIndexes(infra.db);
        host.start();
        infra.onClose.push(() => host.stop());
        const stopRetention = scheduleRetention(infra, (infra.config as ServiceConfig<'audit-log'>).AUDIT_RETENTION_DAYS);
        infra.onClose.push(stopRetention);
      }
    }
    return {
      module: AuditLogModule,
      controllers: [ListEntriesController, RebuildController, ApplyRetentionController, ReplayDeadLettersController],
      providers: [AuditStartup, { provide: AUDIT_HOST, useValue: host }],
    };
  }
}
