import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type GetOrganizationRequest, type Message, type MyOrganizationsRequest } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { getMeta, myOrganizations, organizationView, requireMember } from '../../people/people.queries';
import { caughtUp, PEOPLE_PROJECTION_HANDLE, type ProjectionHandle } from '../read-model';

/** One organization (for a member, when a user is named) and the organizations a user belongs to. */
@Controller()
export class OrganizationsController {
  constructor(
    @Inject(INFRA) private readonly infra: Infrastructure,
    @Inject(PEOPLE_PROJECTION_HANDLE) private readonly projection: ProjectionHandle,
  ) {}

  @MessagePattern(MembershipSubjects.myOrganizations())
  async mine(@Payload() m: Message<MyOrganizationsRequest>) {
    await caughtUp(this.infra, this.projection, m.meta);
    return myOrganizations(this.infra.db, m.body.userId);
  }

  @MessagePattern(MembershipSubjects.getOrganization())
  async get(@Payload() m: Message<GetOrganizationRequest>) {
    await caughtUp(this.infra, this.projection, m.meta);
    const meta = await getMeta(this.infra.db, m.body.organizationId);
    if (m.body.userId !== undefined) await requireMember(this.infra.db, meta._id, m.body.userId);
    return organizationView(meta);
  }
}
