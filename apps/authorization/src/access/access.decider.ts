import { DomainError, ErrorCode, permissionScope, type CommandMeta, type NewEvent, type RoleScope } from '@app/contracts';
import { assertMayDefine, normalizePermissions, type OrgAccess, type RoleEntry } from '@app/access-model';

/**
 * Commands on the access aggregate of one organization (stream `access-<organizationId>`): its custom roles.
 * Decided on the organization's view (which has applied the access stream up to the version the append
 * expects, and the membership events before the command), pure: view + command → events. Role bindings are
 * membership's (its organization decider).
 */
export type AccessCommand =
  | { kind: 'CreateRole'; organizationId: string; roleId: string; name: string; description: string; scope: RoleScope; permissions: string[] }
  | { kind: 'ChangeRole'; organizationId: string; roleId: string; name?: string; description?: string; permissions?: string[] }
  | { kind: 'DeleteRole'; organizationId: string; roleId: string };

export const accessStreamId = (organizationId: string): string => `access-${organizationId}`;

const BASE_PERMISSION: Record<RoleScope, string> = { organization: 'organization.view', project: 'project.view' };

const event = (organizationId: string, type: string, data: Record<string, unknown>): NewEvent => ({ type, version: 1, organizationId, data });

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

function validPermissions(scope: RoleScope, permissions: string[]): string[] {
  const wrong = permissions.filter((p) => permissionScope(p) !== scope);
  if (wrong.length) throw new DomainError(ErrorCode.ROLE_SCOPE_MISMATCH, `not ${scope} permissions: ${wrong.join(', ')}`, { permissions: wrong });
  return normalizePermissions([BASE_PERMISSION[scope], ...permissions]);
}

function assertNameFree(org: OrgAccess, scope: RoleScope, name: string, exceptRoleId?: string): void {
  const key = name.trim().toLowerCase();
  for (const r of org.roles.values())
    if (r.scope === scope && r.id !== exceptRoleId && r.name.trim().toLowerCase() === key)
      throw new DomainError(ErrorCode.ROLE_NAME_TAKEN, `there is already a ${scope} role named ${r.name}`);
}

function customRole(org: OrgAccess, roleId: string): RoleEntry {
  const role = org.roles.get(roleId);
  if (!role) throw notFound('role');
  if (role.builtIn) throw new DomainError(ErrorCode.ROLE_READ_ONLY, `${role.name} is a built-in role and cannot be changed`);
  return role;
}

export function decideAccess(command: AccessCommand, org: OrgAccess, meta: CommandMeta): NewEvent[] {
  if (!org.exists) throw notFound('organization');
  const actorId = meta.actor.id;
  const orgId = command.organizationId;
  switch (command.kind) {
    case 'CreateRole': {
      const permissions = validPermissions(command.scope, command.permissions);
      assertNameFree(org, command.scope, command.name);
      assertMayDefine(org, actorId, permissions);
      return [
        event(orgId, 'role.created', {
          organizationId: orgId,
          roleId: command.roleId,
          name: command.name,
          description: command.description,
          scope: command.scope,
          permissions,
        }),
      ];
    }
    case 'ChangeRole': {
      const role = customRole(org, command.roleId);
      const name = command.name ?? role.name;
      const description = command.description ?? role.description;
      const permissions = command.permissions ? validPermissions(role.scope, command.permissions) : role.permissions;
      if (name !== role.name) assertNameFree(org, role.scope, name, role.id);
      // changing what a role grants (adding or taking away) is for someone who holds all of it, before and after
      if (permissions.join() !== role.permissions.join())
        assertMayDefine(org, actorId, [...new Set([...role.permissions, ...permissions])], 'the role, before or after the change, grants');
      if (name === role.name && description === role.description && permissions.join() === role.permissions.join()) return [];
      return [
        event(orgId, 'role.changed', {
          organizationId: orgId,
          roleId: role.id,
          name,
          description,
          scope: role.scope,
          permissions,
          previousName: role.name,
        }),
      ];
    }
    case 'DeleteRole': {
      const role = customRole(org, command.roleId);
      assertMayDefine(org, actorId, role.permissions);
      if (org.roleInUse(role.id)) throw new DomainError(ErrorCode.ROLE_IN_USE, `role ${role.name} is bound to someone and cannot be deleted`);
      return [event(orgId, 'role.deleted', { organizationId: orgId, roleId: role.id, name: role.name, scope: role.scope })];
    }
  }
}
