import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuditLogSubjects, type AuditEntry, type ListEntriesRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { entriesCollection } from '../../projections/audit.projection';

@Controller()
export class ListEntriesController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /** Newest first. `organizationId: null` lists entries that belong to no organization. */
  @MessagePattern(AuditLogSubjects.listEntries())
  async list(@Payload() msg: Message<ListEntriesRequest>): Promise<{ items: AuditEntry[] }> {
    const limit = Math.min(Math.max(msg.body?.limit ?? 50, 1), 500);
    const filter = msg.body?.organizationId === undefined ? {} : { organizationId: msg.body.organizationId };
    const docs = await entriesCollection(this.infra.db).find(filter).sort({ timestamp: -1, _id: -1 }).limit(limit).toArray();
    return { items: docs.map(({ _id, sequence: _s, ...rest }) => ({ id: _id, ...rest })) };
  }
}
