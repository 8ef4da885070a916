import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { AuditLogSubjects, type ReplayDeadLettersReply } from '@app/contracts';
import { AUDIT_HOST } from '../../projections/audit-host.token';
import type { AuditProjectionHost } from '../../projections/audit-projection.host';

@Controller()
export class ReplayDeadLettersController {
  constructor(@Inject(AUDIT_HOST) private readonly host: AuditProjectionHost) {}

  /** Re-feeds `dlq.audit-log` through the projection after a fix; replies when done (see docs/operations.md). */
  @MessagePattern(AuditLogSubjects.replayDeadLetters())
  replay(): Promise<ReplayDeadLettersReply> {
    return this.host.replayDeadLetters();
  }
}
