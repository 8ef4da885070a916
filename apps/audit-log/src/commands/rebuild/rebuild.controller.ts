import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { AuditLogSubjects, type RebuildReply } from '@app/contracts';
import { AUDIT_HOST } from '../../projections/audit-host.token';
import type { AuditProjectionHost } from '../../projections/audit-projection.host';

@Controller()
export class RebuildController {
  constructor(@Inject(AUDIT_HOST) private readonly host: AuditProjectionHost) {}

  /** Drops the audit projection and rebuilds it from the events stream; replies when done (see docs/audit-log.md). */
  @MessagePattern(AuditLogSubjects.rebuild())
  rebuild(): Promise<RebuildReply> {
    return this.host.rebuild();
  }
}
