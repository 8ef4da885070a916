import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { AuditLogSubjects, type ApplyRetentionReply } from '@app/contracts';
import { INFRA, type Infrastructure, type ServiceConfig } from '@app/platform';
import { applyRetention } from '../../retention/retention.job';

@Controller()
export class ApplyRetentionController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /** Runs the retention job now (it also runs hourly); nothing is deleted when AUDIT_RETENTION_DAYS is 0. */
  @MessagePattern(AuditLogSubjects.applyRetention())
  async apply(): Promise<ApplyRetentionReply> {
    const retentionDays = (this.infra.config as ServiceConfig<'audit-log'>).AUDIT_RETENTION_DAYS;
    return { retentionDays, deleted: await applyRetention(this.infra.db, retentionDays) };
  }
}
