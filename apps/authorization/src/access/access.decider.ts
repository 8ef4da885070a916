import { DomainError, ErrorCode, permissionScope, type CommandMeta, type NewEvent, type RoleScope } from '@app/contracts';
import type { OrgIndex, RoleEntry } from '../model/org-index';
import { normalizePermissions } from '../model/permission-set';
import { actorHolds, assertAssignable, assertMayDefine, CHANGE_OWNER } from './grants';

/**
 * Commands on the access aggregate of one organization (stream `access-<organizationId>`): custom roles and
 * explicit role bindings. Decided on the organization's view (which has applied the access stream up to the
 * version the append expects, and the membership events before the command), pure: view + command → events.
 */
export type AccessCommand =
  | { kind: 'CreateRole'; organizationId: string; roleId: string; name: string; description: string; scope: RoleScope; permissions: string[] }
  | { kind: 'ChangeRole'; organizationId: string; roleId: string; name?: string; description?: string; permissions?: string[] }
  | { kind: 'DeleteRole'; organizationId: string; roleId: string }
  | {
      kind: 'AssignRole';
      organizationId: string;
      subjectType: 'user' | 'group';
      subjectId: string;
      projectId: string | null;
      roleId: string;
    }
  | { kind: 'UnassignRole'; organizationId: string; projectId: string; subjectId: string };

export const accessStreamId = (organizationId: string): string => `access-${organizationId}`;

const BASE_PERMISSION: Record<RoleScope, string> = { organization: 'organization.view', project: 'project.view' };

const event = (organizationId: string, type: string, data: Record<string, unknown>): NewEvent => ({ type, version: 1, organizationId, data });

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

function validPermissions(scope: RoleScope, permissions: string[]): string[] {
  const wrong = permissions.filter((p) => permissionScope(p) !== scope);
  if (wrong.length)
    throw new DomainError(ErrorCode.ROLE_SCOPE_MISMATCH, `not ${scope} permissions: ${wrong.join(', ')}`, { permissions: wrong });
  return normalizePermissions([BASE_PERMISSION[scope], ...permissions]);
}

function assertNameFree(org: OrgIndex, scope: RoleScope, name: string, exceptRoleId?: string): void {
  const key = name.trim().toLowerCase();
  for (const r of org.roles.values())
    if (r.scope === scope && r.id !== exceptRoleId && r.name.trim().toLowerCase() === key)
      throw new DomainError(ErrorCode.ROLE_NAME_TAKEN, `there is already a ${scope} role named ${r.name}`);
}

function customRole(org: OrgIndex, roleId: string): RoleEntry {
  const role = org.roles.get(roleId);
  if (!role) throw notFound('role');
  if (role.builtIn) throw new DomainError(ErrorCode.ROLE_READ_ONLY, `${role.name} is a built-in role and cannot be changed`);
  return role;
}

export function decideAccess(command: AccessCommand, org: OrgIndex, meta: CommandMeta): NewEvent[] {
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
      if (permissions.join() !== role.permissions.join()) assertMayDefine(org, actorId, [...new Set([...role.permissions, ...permissions])], 'the role, before or after the change, grants');
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
    case 'AssignRole':
      return decideAssign(command, org, actorId);
    case 'UnassignRole': {
      if (!org.projects.has(command.projectId)) throw notFound('project');
      const user = org.users.get(command.subjectId);
      const subject = user ?? org.groups.get(command.subjectId);
      const roleId = subject?.projectRoles.get(command.projectId);
      if (!subject || !roleId) throw notFound('project member');
      return [
        event(orgId, 'role.unassigned', {
          organizationId: orgId,
          subjectType: user ? 'user' : 'group',
          subjectId: subject.id,
          projectId: command.projectId,
          roleId,
          roleName: org.roles.get(roleId)?.name ?? 'Deleted role',
        }),
      ];
    }
  }
}

function decideAssign(command: Extract<AccessCommand, { kind: 'AssignRole' }>, org: OrgIndex, actorId: string): NewEvent[] {
  const { organizationId: orgId, subjectType, subjectId, projectId } = command;
  const subject = org.subject(subjectType, subjectId);
  if (projectId !== null) {
    if (!org.projects.has(projectId)) throw notFound('project');
    if (!subject) throw new DomainError(ErrorCode.NOT_A_MEMBER, `the ${subjectType} does not belong to the organization`);
  } else if (!subject) throw notFound(subjectType === 'user' ? 'person' : 'group');

  const scope: RoleScope = projectId === null ? 'organization' : 'project';
  const current = projectId === null ? subject.orgRole : (subject.projectRoles.get(projectId) ?? null);
  if (current === command.roleId && org.roles.has(command.roleId)) {
    // binding the same role again changes nothing (still checked, so nobody learns what they could not do)
    assertAssignable(org, actorId, command.roleId, scope, projectId);
    return [];
  }
  const owner = org.ownerRoleId;
  if (projectId === null && current === owner && !actorHolds(org, actorId, CHANGE_OWNER, null))
    throw new DomainError(ErrorCode.FORBIDDEN, `taking away the Owner role needs ${CHANGE_OWNER}`);
  const role = assertAssignable(org, actorId, command.roleId, scope, projectId);

  // At least one user keeps the Owner role directly. Owners through a group are not counted: membership can
  // empty or delete a group without asking, and that must never leave the organization without an Owner.
  if (projectId === null && current === owner && subjectType === 'user') {
    const remaining = [...org.users.values()].filter((u) => u.orgRole === owner && u.id !== subjectId);
    if (remaining.length === 0) throw new DomainError(ErrorCode.LAST_OWNER, 'the last Owner of the organization keeps the role');
  }
  return [
    event(orgId, 'role.assigned', {
      organizationId: orgId,
      subjectType,
      subjectId,
      projectId,
      roleId: role.id,
      roleName: role.name,
      previousRoleId: current,
    }),
  ];
}
