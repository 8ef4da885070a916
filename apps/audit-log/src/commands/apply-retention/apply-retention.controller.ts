import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern } from '@nestjs/microservices';
import { AuditLogSubjects, type ApplyRetentionReply } from '@app/contracts';
import { InjectConfig, MONGO_DB, type ServiceConfig } from '@app/platform';
import { applyRetention } from '../../retention/retention.job';

@Controller()
export class ApplyRetentionController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @InjectConfig() private readonly config: ServiceConfig<'audit-log'>,
  ) {}

  /** Runs the retention job now (it also runs hourly); nothing is deleted when AUDIT_RETENTION_DAYS is 0. */
  @MessagePattern(AuditLogSubjects.applyRetention())
  async apply(): Promise<ApplyRetentionReply> {
    const retentionDays = this.config.AUDIT_RETENTION_DAYS;
    return { retentionDays, deleted: await applyRetention(this.db, retentionDays) };
  }
}
