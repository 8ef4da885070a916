import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccessSubjects,
  checkText,
  Description,
  DomainError,
  EntityName,
  ErrorCode,
  stableUuid,
  type ChangeRoleRequest,
  type CreateRoleRequest,
  type DeleteRoleRequest,
  type Message,
  type RoleView,
} from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { ACCESS_VIEW } from '../access/access.tokens';
import { runAccessCommand } from '../access/access.runner';
import type { AccessView } from '../model/access-view';
import { invalid, requireUuids, toRoleView } from '../queries/views';

const SCOPES = ['organization', 'project'];

/** A role name or description as libs/contracts/src/fields.ts defines them (its limits are the kind's). */
function text(value: unknown, field: 'name' | 'description', _max?: number, _min?: number): string {
  const r = checkText(field === 'description' ? Description : EntityName, value, field);
  if (r.problem !== null) throw invalid(r.problem);
  return r.value;
}

function permissionList(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 200 || value.some((p) => typeof p !== 'string' || p.length > 100))
    throw invalid('permissions must be a list of permission names');
  return value as string[];
}

/** Commands on the access aggregate of an organization: its custom roles (bindings are membership's). */
@Controller()
export class AccessController {
  constructor(
    @Inject(INFRA) private readonly infra: Infrastructure,
    @Inject(ACCESS_VIEW) private readonly view: AccessView,
  ) {}

  private get deps() {
    return { store: this.infra.store, relay: this.infra.relay, view: this.view };
  }

  private role(organizationId: string, roleId: string): RoleView {
    const role = this.view.org(organizationId).roles.get(roleId);
    if (!role) throw new DomainError(ErrorCode.NOT_FOUND, 'role not found');
    return toRoleView(role);
  }

  @MessagePattern(AccessSubjects.createRole())
  async createRole(@Payload() msg: Message<CreateRoleRequest>): Promise<RoleView> {
    const b = msg.body ?? ({} as CreateRoleRequest);
    requireUuids({ organizationId: b.organizationId });
    if (!SCOPES.includes(b.scope)) throw invalid('scope must be organization or project');
    const command = {
      kind: 'CreateRole' as const,
      organizationId: b.organizationId.toLowerCase(),
      roleId: stableUuid(`role:${msg.meta.commandId}`), // a copy of the command names the same role
      name: text(b.name, 'name', 100),
      description: b.description === undefined ? '' : text(b.description, 'description', 1000, 0),
      scope: b.scope,
      permissions: permissionList(b.permissions),
    };
    const { events } = await runAccessCommand(this.deps, command, msg.meta);
    return this.role(command.organizationId, (events[0]?.data.roleId as string) ?? command.roleId);
  }

  @MessagePattern(AccessSubjects.changeRole())
  async changeRole(@Payload() msg: Message<ChangeRoleRequest>): Promise<RoleView> {
    const b = msg.body ?? ({} as ChangeRoleRequest);
    requireUuids({ organizationId: b.organizationId, roleId: b.roleId });
    await runAccessCommand(
      this.deps,
      {
        kind: 'ChangeRole',
        organizationId: b.organizationId.toLowerCase(),
        roleId: b.roleId.toLowerCase(),
        name: b.name === undefined ? undefined : text(b.name, 'name', 100),
        description: b.description === undefined ? undefined : text(b.description, 'description', 1000, 0),
        permissions: b.permissions === undefined ? undefined : permissionList(b.permissions),
      },
      msg.meta,
    );
    return this.role(b.organizationId.toLowerCase(), b.roleId.toLowerCase());
  }

  @MessagePattern(AccessSubjects.deleteRole())
  async deleteRole(@Payload() msg: Message<DeleteRoleRequest>): Promise<Record<string, never>> {
    const b = msg.body ?? ({} as DeleteRoleRequest);
    requireUuids({ organizationId: b.organizationId, roleId: b.roleId });
    await runAccessCommand(this.deps, { kind: 'DeleteRole', organizationId: b.organizationId.toLowerCase(), roleId: b.roleId.toLowerCase() }, msg.meta);
    return {};
  }
}
