import { Inject, Injectable, Module, type FactoryProvider, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { InjectConfig, LOGGER, METRICS_REGISTRY, MONGO_DB, STREAM_CONSUMER_DEPS, type ServiceConfig, type StreamConsumerDeps } from '@app/platform';
import { ListEntriesController } from './queries/list-entries/list-entries.controller';
import { RebuildController } from './commands/rebuild/rebuild.controller';
import { ApplyRetentionController } from './commands/apply-retention/apply-retention.controller';
import { ReplayDeadLettersController } from './commands/replay-dead-letters/replay-dead-letters.controller';
import { ensureAuditIndexes } from './projections/audit.projection';
import { AuditProjectionHost } from './projections/audit-projection.host';
import { AUDIT_HOST } from './projections/audit-host.token';
import { scheduleRetention } from './retention/retention.job';

const auditHostProvider: FactoryProvider<AuditProjectionHost> = {
  provide: AUDIT_HOST,
  useFactory: (consumer: StreamConsumerDeps, db: Db, metrics: Registry) => new AuditProjectionHost({ ...consumer, db, metrics }),
  inject: [STREAM_CONSUMER_DEPS, MONGO_DB, METRICS_REGISTRY],
};

/** Indexes, then the projection and the hourly retention, before the service answers; both stop on shutdown. */
@Injectable()
class AuditStartup implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopRetention?: () => Promise<void>;

  constructor(
    @Inject(AUDIT_HOST) private readonly host: AuditProjectionHost,
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectConfig() private readonly config: ServiceConfig<'audit-log'>,
  ) {}

  async onApplicationBootstrap() {
    await ensureAuditIndexes(this.db);
    this.host.start();
    this.stopRetention = scheduleRetention({ db: this.db, logger: this.logger }, this.config.AUDIT_RETENTION_DAYS);
  }

  async onApplicationShutdown() {
    await this.stopRetention?.().catch(() => undefined);
    await this.host.stop().catch(() => undefined);
  }
}

@Module({
  controllers: [ListEntriesController, RebuildController, ApplyRetentionController, ReplayDeadLettersController],
  providers: [auditHostProvider, AuditStartup],
})
export class AuditLogModule {}
