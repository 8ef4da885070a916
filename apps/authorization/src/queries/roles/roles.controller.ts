import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccessSubjects,
  BUILT_IN_ROLES,
  DomainError,
  ErrorCode,
  builtInRoleId,
  type GetRoleRequest,
  type ListRolesRequest,
  type Message,
  type RolePage,
  type RoleView,
} from '@app/contracts';
import { ACCESS_VIEW } from '../../access/access.tokens';
import type { AccessView } from '../../view/access-view';
import { byName, caughtUpOrg, paginate, toRoleView } from '../views';

/** The roles of an organization (built-in first, then custom by name) and one role, from the view after it caught up. */
@Controller()
export class RoleQueriesController {
  constructor(@Inject(ACCESS_VIEW) private readonly view: AccessView) {}

  @MessagePattern(AccessSubjects.listRoles())
  async list(@Payload() msg: Message<ListRolesRequest>): Promise<RolePage> {
    const b = msg.body;
    const org = await caughtUpOrg(this.view, b.organizationId);
    const builtIn = BUILT_IN_ROLES.map((d) => org.roles.get(builtInRoleId(org.id, d.key))!);
    const custom = [...org.roles.values()].filter((r) => !r.builtIn).sort(byName);
    const roles = [...builtIn, ...custom].filter((r) => !b.scope || r.scope === b.scope).map(toRoleView);
    return paginate(roles, b.limit, b.cursor);
  }

  @MessagePattern(AccessSubjects.getRole())
  async get(@Payload() msg: Message<GetRoleRequest>): Promise<RoleView> {
    const b = msg.body;
    const role = (await caughtUpOrg(this.view, b.organizationId)).roles.get(b.roleId);
    if (!role) throw new DomainError(ErrorCode.NOT_FOUND, 'role not found');
    return toRoleView(role);
  }
}
