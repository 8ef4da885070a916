import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  MembershipSubjects,
  type AddPeopleRequest,
  type AssignRoleRequest,
  type CreateGroupRequest,
  type CreateMemberAccountsRequest,
  type CreateOrganizationRequest,
  type CreateProjectRequest,
  type GetOrganizationRequest,
  type ListPeopleRequest,
  type Message,
  type MyOrganizationsRequest,
  type UnassignRoleRequest,
  type UpdateGroupRequest,
} from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import type { Progress } from '@app/event-store';
import * as commands from './commands/organization.commands';
import * as queries from './people/people.queries';

export const PEOPLE_PROJECTION_HANDLE = Symbol('PEOPLE_PROJECTION_HANDLE');
/** filled in at start-up, once the projection runs */
export interface ProjectionHandle {
  running?: Progress;
}

/** Commands change one organization's stream; queries read the people read model after it caught up. */
@Controller()
export class MembershipController {
  constructor(
    @Inject(INFRA) private readonly infra: Infrastructure,
    @Inject(PEOPLE_PROJECTION_HANDLE) private readonly projection: ProjectionHandle,
  ) {}

  private caughtUp() {
    return queries.waitForReadModel({ db: this.infra.db, jsm: this.infra.jsm, projection: this.projection.running });
  }

  @MessagePattern(MembershipSubjects.createOrganization())
  createOrganization(@Payload() m: Message<CreateOrganizationRequest>) {
    return commands.createOrganization(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.myOrganizations())
  async myOrganizations(@Payload() m: Message<MyOrganizationsRequest>) {
    await this.caughtUp();
    return queries.myOrganizations(this.infra.db, m.body?.userId);
  }

  @MessagePattern(MembershipSubjects.getOrganization())
  async getOrganization(@Payload() m: Message<GetOrganizationRequest>) {
    await this.caughtUp();
    const meta = await queries.getMeta(this.infra.db, m.body?.organizationId);
    if (m.body.userId !== undefined) await queries.requireMember(this.infra.db, meta._id, m.body.userId);
    return queries.organizationView(meta);
  }

  @MessagePattern(MembershipSubjects.listPeople())
  async listPeople(@Payload() m: Message<ListPeopleRequest>) {
    await this.caughtUp();
    return queries.listPeople(this.infra.db, m.body);
  }

  @MessagePattern(MembershipSubjects.addPeople())
  addPeople(@Payload() m: Message<AddPeopleRequest>) {
    return commands.addPeople(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.createAccounts())
  createAccounts(@Payload() m: Message<CreateMemberAccountsRequest>) {
    return commands.createAccounts(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.removePerson())
  removePerson(@Payload() m: Message<{ organizationId: string; userId: string }>) {
    return commands.removePerson(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.resetPassword())
  resetPassword(@Payload() m: Message<{ organizationId: string; userId: string }>) {
    return commands.resetMemberPassword(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.assignRole())
  assignRole(@Payload() m: Message<AssignRoleRequest>) {
    return commands.assignRole(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.unassignRole())
  unassignRole(@Payload() m: Message<UnassignRoleRequest>) {
    return commands.unassignRole(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.createGroup())
  createGroup(@Payload() m: Message<CreateGroupRequest>) {
    return commands.createGroup(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.updateGroup())
  updateGroup(@Payload() m: Message<UpdateGroupRequest>) {
    return commands.updateGroup(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.deleteGroup())
  deleteGroup(@Payload() m: Message<{ organizationId: string; groupId: string }>) {
    return commands.deleteGroup(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.listGroups())
  async listGroups(@Payload() m: Message<{ organizationId: string; limit?: number; cursor?: string }>) {
    await this.caughtUp();
    return queries.listGroups(this.infra.db, m.body);
  }

  @MessagePattern(MembershipSubjects.getGroup())
  async getGroup(@Payload() m: Message<{ organizationId: string; groupId: string }>) {
    await this.caughtUp();
    return queries.getGroup(this.infra.db, m.body);
  }

  @MessagePattern(MembershipSubjects.createProject())
  createProject(@Payload() m: Message<CreateProjectRequest>) {
    return commands.createProject(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.listProjects())
  async listProjects(@Payload() m: Message<{ organizationId: string; limit?: number; cursor?: string }>) {
    await this.caughtUp();
    return queries.listProjects(this.infra.db, m.body);
  }

  @MessagePattern(MembershipSubjects.getProject())
  async getProject(@Payload() m: Message<{ organizationId: string; projectId: string }>) {
    await this.caughtUp();
    return queries.getProject(this.infra.db, m.body);
  }

  @MessagePattern(MembershipSubjects.transferProject())
  transferProject(@Payload() m: Message<{ organizationId: string; projectId: string; userId: string }>) {
    return commands.transferProject(this.infra, m.body, m.meta);
  }

  @MessagePattern(MembershipSubjects.deleteProject())
  deleteProject(@Payload() m: Message<{ organizationId: string; projectId: string }>) {
    return commands.deleteProject(this.infra, m.body, m.meta);
  }
}
