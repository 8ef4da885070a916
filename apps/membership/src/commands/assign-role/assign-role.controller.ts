import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { isNewEvent, MembershipSubjects, RoleAssigned, type AssignRoleRequest, type BindingView, type Message, type NewEvent } from '@app/contracts';
import { withToken } from '../../organization/organization-command.runner';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';

const roleNameOf = (e: NewEvent | undefined): string | undefined => (e && isNewEvent(e, RoleAssigned) ? e.data.roleName : undefined);

/** A user's or group's organization role, or its role in a project (the gateway has checked the route's permission). */
@Controller()
export class AssignRoleController {
  constructor(@Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps) {}

  @MessagePattern(MembershipSubjects.assignRole())
  async assign(@Payload() m: Message<AssignRoleRequest>): Promise<BindingView> {
    const req = m.body;
    const projectId = req.projectId ?? null;
    const command = {
      kind: 'AssignRole' as const,
      organizationId: req.organizationId,
      subjectType: req.subjectType,
      subjectId: req.subjectId,
      projectId,
      roleId: req.roleId,
    };
    const result = await runOrganizationCommand(this.organizations, command, m.meta, (events, state) => ({
      subjectType: command.subjectType,
      subjectId: command.subjectId,
      projectId,
      role: { id: command.roleId, name: roleNameOf(events[0]) ?? state.roles.get(command.roleId)?.name ?? '' },
    }));
    return withToken(req.organizationId, result.version, result.reply);
  }
}
