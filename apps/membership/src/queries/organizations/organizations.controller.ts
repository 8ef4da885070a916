import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type GetOrganizationRequest, type Message, type MyOrganizationsRequest } from '@app/contracts';
import { getOrganization, myOrganizations } from '../../people/people.queries';
import { caughtUp, PEOPLE_VIEW_HANDLE, type PeopleViewHandle } from '../read-model';

/** One organization (for a member, when a user is named) and the organizations a user belongs to. */
@Controller()
export class OrganizationsController {
  constructor(@Inject(PEOPLE_VIEW_HANDLE) private readonly view: PeopleViewHandle) {}

  @MessagePattern(MembershipSubjects.myOrganizations())
  async mine(@Payload() m: Message<MyOrganizationsRequest>) {
    return myOrganizations(await caughtUp(this.view, m.meta), m.body.userId, m.body);
  }

  @MessagePattern(MembershipSubjects.getOrganization())
  async get(@Payload() m: Message<GetOrganizationRequest>) {
    return getOrganization(await caughtUp(this.view, m.meta), m.body.organizationId, m.body.userId);
  }
}
