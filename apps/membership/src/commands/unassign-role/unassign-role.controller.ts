import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type Message, type UnassignRoleRequest } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { runOrganization, withToken } from '../../organization/organization-command.runner';

/** A user or group loses the role bound to it on a project. */
@Controller()
export class UnassignRoleController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(MembershipSubjects.unassignRole())
  async unassign(@Payload() m: Message<UnassignRoleRequest>): Promise<{ consistencyToken?: string }> {
    const req = m.body;
    const { version } = await runOrganization(
      this.infra,
      { kind: 'UnassignRole', organizationId: req.organizationId, projectId: req.projectId, subjectId: req.subjectId },
      m.meta,
    );
    return withToken(req.organizationId, version, {});
  }
}
