import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type ListPeopleRequest, type Message } from '@app/contracts';
import { listPeopleJson } from '../../people/people.queries';
import { caughtUp, PEOPLE_VIEW_HANDLE, type PeopleViewHandle } from '../read-model';

@Controller()
export class ListPeopleController {
  constructor(@Inject(PEOPLE_VIEW_HANDLE) private readonly view: PeopleViewHandle) {}

  /** the page as JSON text, kept until the people model changes: the gateway forwards it as it is */
  @MessagePattern(MembershipSubjects.listPeople())
  async list(@Payload() m: Message<ListPeopleRequest>) {
    return listPeopleJson(await caughtUp(this.view, m.meta), m.body);
  }
}
