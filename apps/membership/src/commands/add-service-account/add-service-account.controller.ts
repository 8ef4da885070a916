import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type AddServiceAccountRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { runOrganization } from '../../organization/organization-command.runner';

/**
 * A service account, created by identity, joins the organization (`organization.member-added`, `via`
 * `service-account`) with a role the actor may grant and never Owner (the decider). From then on it is a member
 * like a person: its role is changed, it joins groups and holds project roles with the usual commands, and it
 * leaves with `remove-person` when it is deleted.
 */
@Controller()
export class AddServiceAccountController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(MembershipSubjects.addServiceAccount())
  async add(@Payload() m: Message<AddServiceAccountRequest>): Promise<Record<string, never>> {
    const { organizationId, serviceAccountId, name, roleId } = m.body;
    await runOrganization(this.infra, { kind: 'AddServiceAccount', organizationId, serviceAccountId, name, roleId }, m.meta);
    return {};
  }
}
