import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type Message, type RemovePersonRequest } from '@app/contracts';
import { withToken } from '../../organization/organization-command.runner';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';

/** Owners (OWNER_PROTECTED) come from the bindings on the same stream: no window for a concurrent "make X Owner". */
@Controller()
export class RemovePersonController {
  constructor(@Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps) {}

  @MessagePattern(MembershipSubjects.removePerson())
  async remove(@Payload() m: Message<RemovePersonRequest>): Promise<{ consistencyToken?: string }> {
    const { version } = await runOrganizationCommand(
      this.organizations,
      { kind: 'RemoveMember', organizationId: m.body.organizationId, userId: m.body.userId },
      m.meta,
    );
    return withToken(m.body.organizationId, version, {});
  }
}
