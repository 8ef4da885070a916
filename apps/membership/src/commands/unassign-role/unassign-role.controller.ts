import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type Message, type UnassignRoleRequest } from '@app/contracts';
import { withToken } from '../../organization/organization-command.runner';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';

/** A user or group loses the role bound to it on a project. */
@Controller()
export class UnassignRoleController {
  constructor(@Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps) {}

  @MessagePattern(MembershipSubjects.unassignRole())
  async unassign(@Payload() m: Message<UnassignRoleRequest>): Promise<{ consistencyToken?: string }> {
    const req = m.body;
    const { version } = await runOrganizationCommand(
      this.organizations,
      { kind: 'UnassignRole', organizationId: req.organizationId, projectId: req.projectId, subjectId: req.subjectId },
      m.meta,
    );
    return withToken(req.organizationId, version, {});
  }
}
