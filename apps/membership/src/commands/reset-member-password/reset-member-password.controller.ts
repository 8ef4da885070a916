import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, MembershipSubjects, type Message, type ResetMemberPasswordRequest, type ResetPasswordReply } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { runOrganization } from '../../organization/organization-command.runner';
import { callService } from '../../common/rpc';

/**
 * Only for members of this organization, and only by someone holding everything the person holds (the
 * temporary password hands the account over: the decider's ResetMemberPassword); identity refuses accounts it
 * did not create (NOT_MANAGED_ACCOUNT).
 */
@Controller()
export class ResetMemberPasswordController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(MembershipSubjects.resetPassword())
  async reset(@Payload() m: Message<ResetMemberPasswordRequest>): Promise<ResetPasswordReply> {
    const req = m.body;
    await runOrganization(this.infra, { kind: 'ResetMemberPassword', organizationId: req.organizationId, userId: req.userId }, m.meta);
    return callService<ResetPasswordReply>(this.infra, IdentitySubjects.resetPassword(), { organizationId: req.organizationId, userId: req.userId }, m.meta);
  }
}
