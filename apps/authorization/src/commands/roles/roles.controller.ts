import { Controller, Inject } from '@nestjs/common';
import type { EventStore, OutboxRelay } from '@app/event-store';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccessSubjects,
  DomainError,
  ErrorCode,
  isNewEvent,
  RoleCreated,
  stableUuid,
  type ChangeRoleRequest,
  type CreateRoleRequest,
  type DeleteRoleRequest,
  type Message,
  type RoleView,
} from '@app/contracts';
import { EVENT_STORE, OUTBOX_RELAY } from '@app/platform';
import { ACCESS_VIEW } from '../../access/access.tokens';
import { runAccessCommand } from '../../access/access.runner';
import type { AccessView } from '../../view/access-view';
import { toRoleView } from '../../queries/views';

/**
 * Create, change and delete a custom role: the commands on the access aggregate of an organization (bindings are
 * membership's). Bodies arrive checked against their schemas (AccessRequests: ids lower-cased, names and
 * descriptions as fields.ts defines them).
 */
@Controller()
export class RoleCommandsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    @Inject(ACCESS_VIEW) private readonly view: AccessView,
  ) {}

  private get deps() {
    return { store: this.store, relay: this.relay, view: this.view };
  }

  private role(organizationId: string, roleId: string): RoleView {
    const role = this.view.org(organizationId).roles.get(roleId);
    if (!role) throw new DomainError(ErrorCode.NOT_FOUND, 'role not found');
    return toRoleView(role);
  }

  @MessagePattern(AccessSubjects.createRole())
  async create(@Payload() msg: Message<CreateRoleRequest>): Promise<RoleView> {
    const b = msg.body;
    const command = {
      kind: 'CreateRole' as const,
      organizationId: b.organizationId,
      roleId: stableUuid(`role:${msg.meta.commandId}`), // a copy of the command names the same role
      name: b.name,
      description: b.description ?? '',
      scope: b.scope,
      permissions: b.permissions,
    };
    const { events } = await runAccessCommand(this.deps, command, msg.meta);
    return this.role(command.organizationId, events.find((e) => isNewEvent(e, RoleCreated))?.data.roleId ?? command.roleId);
  }

  @MessagePattern(AccessSubjects.changeRole())
  async change(@Payload() msg: Message<ChangeRoleRequest>): Promise<RoleView> {
    const b = msg.body;
    await runAccessCommand(
      this.deps,
      { kind: 'ChangeRole', organizationId: b.organizationId, roleId: b.roleId, name: b.name, description: b.description, permissions: b.permissions },
      msg.meta,
    );
    return this.role(b.organizationId, b.roleId);
  }

  @MessagePattern(AccessSubjects.deleteRole())
  async delete(@Payload() msg: Message<DeleteRoleRequest>): Promise<Record<string, never>> {
    const b = msg.body;
    await runAccessCommand(this.deps, { kind: 'DeleteRole', organizationId: b.organizationId, roleId: b.roleId }, msg.meta);
    return {};
  }
}
