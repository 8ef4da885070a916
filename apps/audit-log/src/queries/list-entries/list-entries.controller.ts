import { Controller, Inject } from '@nestjs/common';
import type { JetStreamManager } from 'nats';
import type { Logger } from 'pino';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuditLogSubjects, type ListEntriesReply, type ListEntriesRequest, type Message, type Naming } from '@app/contracts';
import { readSequence, waitUntilApplied } from '@app/event-store';
import { JETSTREAM_MANAGER, LOGGER, MONGO_DB, NAMING } from '@app/platform';
import { AUDIT_HOST } from '../../projections/audit-host.token';
import type { AuditProjectionHost } from '../../projections/audit-projection.host';
import { listEntries, pageFilter } from './list-entries.query';

@Controller()
export class ListEntriesController {
  constructor(
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(NAMING) private readonly naming: Naming,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(AUDIT_HOST) private readonly host: AuditProjectionHost,
  ) {}

  /**
   * Newest first, with filters and a keyset cursor. Read-your-writes: unless `consistent` is false, first
   * waits (3 s at most, within the gateway's request timeout) until the projection has handled the events stream up to the request's read index (`readSequence`: the gateway's, else its last sequence as of now).
   */
  @MessagePattern(AuditLogSubjects.listEntries())
  async list(@Payload() msg: Message<ListEntriesRequest>): Promise<ListEntriesReply> {
    const req = msg.body; // checked against ListEntriesRequest at the edge
    pageFilter(req); // a cursor or date it cannot read is refused before any waiting
    if (req.consistent !== false) {
      const sequence = await readSequence(this.jsm, this.naming, msg.meta);
      if (!(await waitUntilApplied(this.host, sequence, 3000))) this.logger.warn({ sequence }, 'audit query answered before the projection caught up');
    }
    return listEntries(this.db, req);
  }
}
