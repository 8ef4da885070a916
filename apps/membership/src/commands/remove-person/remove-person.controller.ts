import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type Message, type RemovePersonRequest } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { runOrganization, withToken } from '../../organization/organization-command.runner';

/** Owners (OWNER_PROTECTED) come from the bindings on the same stream: no window for a concurrent "make X Owner". */
@Controller()
export class RemovePersonController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(MembershipSubjects.removePerson())
  async remove(@Payload() m: Message<RemovePersonRequest>): Promise<{ consistencyToken?: string }> {
    const { version } = await runOrganization(this.infra, { kind: 'RemoveMember', organizationId: m.body.organizationId, userId: m.body.userId }, m.meta);
    return withToken(m.body.organizationId, version, {});
  }
}
