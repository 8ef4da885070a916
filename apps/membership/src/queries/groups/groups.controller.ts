import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type GetGroupRequest, type ListGroupsRequest, type Message } from '@app/contracts';
import { getGroup, listGroups } from '../../people/people.queries';
import { caughtUp, PEOPLE_VIEW_HANDLE, type PeopleViewHandle } from '../read-model';

@Controller()
export class GroupQueriesController {
  constructor(@Inject(PEOPLE_VIEW_HANDLE) private readonly view: PeopleViewHandle) {}

  @MessagePattern(MembershipSubjects.listGroups())
  async list(@Payload() m: Message<ListGroupsRequest>) {
    return listGroups(await caughtUp(this.view, m.meta), m.body);
  }

  @MessagePattern(MembershipSubjects.getGroup())
  async get(@Payload() m: Message<GetGroupRequest>) {
    return getGroup(await caughtUp(this.view, m.meta), m.body);
  }
}
