import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type GetGroupRequest, type ListGroupsRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { getGroup, listGroups } from '../../people/people.queries';
import { caughtUp, PEOPLE_PROJECTION_HANDLE, type ProjectionHandle } from '../read-model';

@Controller()
export class GroupQueriesController {
  constructor(
    @Inject(INFRA) private readonly infra: Infrastructure,
    @Inject(PEOPLE_PROJECTION_HANDLE) private readonly projection: ProjectionHandle,
  ) {}

  @MessagePattern(MembershipSubjects.listGroups())
  async list(@Payload() m: Message<ListGroupsRequest>) {
    await caughtUp(this.infra, this.projection, m.meta);
    return listGroups(this.infra.db, m.body);
  }

  @MessagePattern(MembershipSubjects.getGroup())
  async get(@Payload() m: Message<GetGroupRequest>) {
    await caughtUp(this.infra, this.projection, m.meta);
    return getGroup(this.infra.db, m.body);
  }
}
