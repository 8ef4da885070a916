import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type GetProjectRequest, type ListProjectsRequest, type Message } from '@app/contracts';
import { getProject, listProjects } from '../../people/people.queries';
import { caughtUp, PEOPLE_VIEW_HANDLE, type PeopleViewHandle } from '../read-model';

@Controller()
export class ProjectQueriesController {
  constructor(@Inject(PEOPLE_VIEW_HANDLE) private readonly view: PeopleViewHandle) {}

  @MessagePattern(MembershipSubjects.listProjects())
  async list(@Payload() m: Message<ListProjectsRequest>) {
    return listProjects(await caughtUp(this.view, m.meta), m.body);
  }

  @MessagePattern(MembershipSubjects.getProject())
  async get(@Payload() m: Message<GetProjectRequest>) {
    return getProject(await caughtUp(this.view, m.meta), m.body);
  }
}
