import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type ListPeopleRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { listPeople } from '../../people/people.queries';
import { caughtUp, PEOPLE_PROJECTION_HANDLE, type ProjectionHandle } from '../read-model';

@Controller()
export class ListPeopleController {
  constructor(
    @Inject(INFRA) private readonly infra: Infrastructure,
    @Inject(PEOPLE_PROJECTION_HANDLE) private readonly projection: ProjectionHandle,
  ) {}

  @MessagePattern(MembershipSubjects.listPeople())
  async list(@Payload() m: Message<ListPeopleRequest>) {
    await caughtUp(this.infra, this.projection);
    return listPeople(this.infra.db, m.body);
  }
}
