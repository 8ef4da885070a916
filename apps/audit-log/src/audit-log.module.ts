import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Infrastructure } from '@app/platform';
import { ListEntriesController } from './queries/list-entries/list-entries.controller';
import { ensureAuditIndexes, startAuditProjection } from './projections/audit.projection';

@Module({})
export class AuditLogModule {
  static register(infra: Infrastructure): DynamicModule {
    class AuditStartup implements OnApplicationBootstrap {
      async onApplicationBootstrap() {
        await ensureAuditIndexes(infra.db);
        await startAuditProjection(infra);
      }
    }
    return { module: AuditLogModule, controllers: [ListEntriesController], providers: [AuditStartup] };
  }
}
