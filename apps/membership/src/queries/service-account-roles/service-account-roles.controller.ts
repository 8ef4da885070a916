import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MembershipSubjects, type Message, type ServiceAccountRolesReply, type ServiceAccountRolesRequest } from '@app/contracts';
import { loadOrganization, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';

/**
 * The roles bound directly to some service accounts (the gateway's service-account list and detail): read from
 * the organization's state as the commands decide on it (a read of the cached state plus the newer commits), not
 * from the people read model, so a role just assigned shows at once. Role names with the custom roles.
 */
@Controller()
export class ServiceAccountRolesController {
  constructor(@Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps) {}

  @MessagePattern(MembershipSubjects.serviceAccountRoles())
  async roles(@Payload() m: Message<ServiceAccountRolesRequest>): Promise<ServiceAccountRolesReply> {
    const deps = this.organizations;
    const { state } = await loadOrganization(deps, m.body.organizationId);
    const org = state.exists ? state.withCustomRoles((await deps.customRoles?.(m.body.organizationId, m.meta)) ?? []) : state;
    const name = (roleId: string) => org.roles.get(roleId)?.name ?? 'Deleted role';
    const reply: ServiceAccountRolesReply = {};
    for (const id of m.body.ids) {
      const member = org.users.get(id);
      reply[id] = {
        role: member?.orgRole ? { id: member.orgRole, name: name(member.orgRole) } : null,
        projectRoles: [...(member?.projectRoles ?? [])].map(([projectId, roleId]) => ({ projectId, roleId, roleName: name(roleId) })),
      };
    }
    return reply;
  }
}
