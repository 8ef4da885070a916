import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainError, ErrorCode, MembershipSubjects, type AddServiceAccountRequest, type Message } from '@app/contracts';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';

/**
 * A service account, created by identity, joins the organization (`organization.member-added`, `via`
 * `service-account`) with a role the actor may grant and never Owner (the decider). From then on it is a member
 * like a person: its role is changed, it joins groups and holds project roles with the usual commands, and it
 * leaves with `remove-person` when it is deleted. With `checkOnly` the role rules run and nothing is added (the
 * gateway asks before identity creates the account, so a refused role leaves nothing behind, as for accounts).
 */
@Controller()
export class AddServiceAccountController {
  constructor(@Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps) {}

  @MessagePattern(MembershipSubjects.addServiceAccount())
  async add(@Payload() m: Message<AddServiceAccountRequest>): Promise<Record<string, never>> {
    const { organizationId, serviceAccountId, name, roleId, checkOnly } = m.body;
    if (!checkOnly && (!serviceAccountId || !name))
      throw new DomainError(ErrorCode.VALIDATION_FAILED, 'serviceAccountId and name are required unless checkOnly');
    await runOrganizationCommand(
      this.organizations,
      { kind: 'AddServiceAccount', organizationId, serviceAccountId: serviceAccountId ?? '', name: name ?? '', roleId, checkOnly },
      m.meta,
    );
    return {};
  }
}
