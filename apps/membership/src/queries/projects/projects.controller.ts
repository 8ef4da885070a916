import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type GetProjectRequest, type ListProjectsRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { getProject, listProjects } from '../../people/people.queries';
import { caughtUp, PEOPLE_PROJECTION_HANDLE, type ProjectionHandle } from '../read-model';

@Controller()
export class ProjectQueriesController {
  constructor(
    @Inject(INFRA) private readonly infra: Infrastructure,
    @Inject(PEOPLE_PROJECTION_HANDLE) private readonly projection: ProjectionHandle,
  ) {}

  @MessagePattern(MembershipSubjects.listProjects())
  async list(@Payload() m: Message<ListProjectsRequest>) {
    await caughtUp(this.infra, this.projection, m.meta);
    return listProjects(this.infra.db, m.body);
  }

  @MessagePattern(MembershipSubjects.getProject())
  async get(@Payload() m: Message<GetProjectRequest>) {
    await caughtUp(this.infra, this.projection, m.meta);
    return getProject(this.infra.db, m.body);
  }
}
