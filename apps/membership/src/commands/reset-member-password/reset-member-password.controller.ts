import { Controller, Inject } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, MembershipSubjects, type Message, type ResetMemberPasswordRequest, type ResetPasswordReply } from '@app/contracts';
import { NATS_CONNECTION } from '@app/platform';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';
import { callService } from '../../common/rpc';

/**
 * Only for members of this organization, and only by someone holding everything the person holds (the
 * temporary password hands the account over: the decider's ResetMemberPassword); identity refuses accounts it
 * did not create (NOT_MANAGED_ACCOUNT).
 */
@Controller()
export class ResetMemberPasswordController {
  constructor(
    @Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @MessagePattern(MembershipSubjects.resetPassword())
  async reset(@Payload() m: Message<ResetMemberPasswordRequest>): Promise<ResetPasswordReply> {
    const req = m.body;
    await runOrganizationCommand(this.organizations, { kind: 'ResetMemberPassword', organizationId: req.organizationId, userId: req.userId }, m.meta);
    return callService<ResetPasswordReply>(
      { nc: this.nc },
      IdentitySubjects.resetPassword(),
      { organizationId: req.organizationId, userId: req.userId },
      m.meta,
    );
  }
}
