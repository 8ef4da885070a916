import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuditLogSubjects, type ListEntriesReply, type ListEntriesRequest, type Message } from '@app/contracts';
import { streamLastSequence, waitUntilApplied } from '@app/event-store';
import { INFRA, type Infrastructure } from '@app/platform';
import { AUDIT_HOST } from '../../projections/audit-host.token';
import type { AuditProjectionHost } from '../../projections/audit-projection.host';
import { listEntries, pageFilter } from './list-entries.query';

@Controller()
export class ListEntriesController {
  constructor(
    @Inject(INFRA) private readonly infra: Infrastructure,
    @Inject(AUDIT_HOST) private readonly host: AuditProjectionHost,
  ) {}

  /**
   * Newest first, with filters and a keyset cursor. Read-your-writes: unless `consistent` is false, first
   * waits (3 s at most, within the gateway's request timeout) until the projection has handled the events stream up to its last sequence as of now.
   */
  @MessagePattern(AuditLogSubjects.listEntries())
  async list(@Payload() msg: Message<ListEntriesRequest>): Promise<ListEntriesReply> {
    const req = msg.body; // checked against ListEntriesRequest at the edge
    pageFilter(req); // a cursor or date it cannot read is refused before any waiting
    if (req.consistent !== false) {
      const sequence = await streamLastSequence(this.infra.jsm, this.infra.naming);
      if (!(await waitUntilApplied(this.host, sequence, 3000))) this.infra.logger.warn({ sequence }, 'audit query answered before the projection caught up');
    }
    return listEntries(this.infra.db, req);
  }
}
