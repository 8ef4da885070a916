import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  DomainError,
  ErrorCode,
  IdentitySubjects,
  type ListServiceAccountsRequest,
  type Message,
  type Page,
  type ServiceAccountDetail,
  type ServiceAccountRef,
  type ServiceAccountView,
} from '@app/contracts';
import { MONGO_DB } from '@app/platform';
import { serviceAccountTokens } from '../../credentials/credentials.repository';
import { detailOf, isLive, serviceAccountsCollection, viewOf } from '../../service-account/service-accounts.projection';

const PAGE_DEFAULT = 50;

/** Service accounts of an organization, from identity's read model; never a secret or a hash. */
@Controller()
export class ServiceAccountQueriesController {
  constructor(@Inject(MONGO_DB) private readonly db: Db) {}

  @MessagePattern(IdentitySubjects.getServiceAccount())
  async get(@Payload() m: Message<ServiceAccountRef>): Promise<ServiceAccountDetail> {
    const { organizationId, serviceAccountId } = m.body;
    const doc = await serviceAccountsCollection(this.db).findOne({ _id: serviceAccountId });
    if (!isLive(doc, organizationId)) throw new DomainError(ErrorCode.NOT_FOUND, 'service account not found');
    const creds = await serviceAccountTokens(this.db).find({ serviceAccountId }).toArray();
    return detailOf(doc, new Map(creds.map((c) => [c.tokenId, c.lastUsedAt])));
  }

  /** By id (the cursor is the last id of the page before). */
  @MessagePattern(IdentitySubjects.listServiceAccounts())
  async list(@Payload() m: Message<ListServiceAccountsRequest>): Promise<Page<ServiceAccountView>> {
    const { organizationId, cursor } = m.body;
    const limit = m.body.limit ?? PAGE_DEFAULT;
    const docs = await serviceAccountsCollection(this.db)
      .find({ organizationId, exists: true, deleted: { $ne: true }, ...(cursor ? { _id: { $gt: cursor } } : {}) })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const items = docs.slice(0, limit).map(viewOf);
    return { items, nextCursor: docs.length > limit ? items[items.length - 1].id : null };
  }
}
