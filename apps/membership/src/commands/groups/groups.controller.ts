import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  builtInRoleId,
  DomainError,
  ErrorCode,
  GroupCreated,
  isNewEvent,
  MembershipSubjects,
  stableUuid,
  type CreateGroupRequest,
  type DeleteGroupRequest,
  type GroupView,
  type Message,
  type UpdateGroupRequest,
} from '@app/contracts';
import { withToken } from '../../organization/organization-command.runner';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';
import type { OrganizationState } from '../../organization/organization.state';
import { builtInRoleName } from '../../people/people.queries';

/** The group's organization role, from the state (a custom role's name is authorization's: not looked up here). */
function groupRole(state: OrganizationState, groupId: string): { id: string; name: string } {
  const id = state.groups.get(groupId)?.orgRole ?? state.memberRoleId;
  return { id, name: builtInRoleName(state.id, id) ?? 'Custom role' };
}

function groupViewOf(state: OrganizationState, groupId: string, role: { id: string; name: string }): GroupView {
  const g = state.groups.get(groupId)!;
  return { id: g.id, name: g.name, description: g.description, memberIds: [...g.members], role };
}

/** Create, update and delete a group of the organization: the reply is the group as the command left it. */
@Controller()
export class GroupCommandsController {
  constructor(@Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps) {}

  @MessagePattern(MembershipSubjects.createGroup())
  async create(@Payload() m: Message<CreateGroupRequest>): Promise<GroupView> {
    const req = m.body;
    const { name, description = '', memberIds = [] } = req;
    const groupId = stableUuid(`group:${m.meta.commandId}`);
    const result = await runOrganizationCommand(
      this.organizations,
      { kind: 'CreateGroup', organizationId: req.organizationId, groupId, name, description, memberIds },
      m.meta,
      (events) => events.find((e) => isNewEvent(e, GroupCreated))?.data.groupId,
    );
    const id = result.reply ?? groupId;
    return withToken(req.organizationId, result.version, groupViewOf(result.state, id, { id: builtInRoleId(req.organizationId, 'member'), name: 'Member' }));
  }

  @MessagePattern(MembershipSubjects.updateGroup())
  async update(@Payload() m: Message<UpdateGroupRequest>): Promise<GroupView> {
    const req = m.body;
    const result = await runOrganizationCommand(
      this.organizations,
      {
        kind: 'UpdateGroup',
        organizationId: req.organizationId,
        groupId: req.groupId,
        name: req.name,
        description: req.description,
        addMemberIds: req.addMemberIds ?? [],
        removeMemberIds: req.removeMemberIds ?? [],
        memberIds: req.memberIds,
      },
      m.meta,
    );
    if (!result.state.groups.has(req.groupId)) throw new DomainError(ErrorCode.NOT_FOUND, 'group not found');
    return withToken(req.organizationId, result.version, groupViewOf(result.state, req.groupId, groupRole(result.state, req.groupId)));
  }

  @MessagePattern(MembershipSubjects.deleteGroup())
  async delete(@Payload() m: Message<DeleteGroupRequest>): Promise<{ consistencyToken?: string }> {
    const { version } = await runOrganizationCommand(
      this.organizations,
      { kind: 'DeleteGroup', organizationId: m.body.organizationId, groupId: m.body.groupId },
      m.meta,
    );
    return withToken(m.body.organizationId, version, {});
  }
}
