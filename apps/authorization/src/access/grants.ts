import { DomainError, ErrorCode, permissionScope, type GrantChange, type RoleScope } from '@app/contracts';
import type { GroupEntry, OrgIndex, RoleEntry, UserEntry } from '../model/org-index';
import { permissionIndex } from '../model/permission-set';

/**
 * The anti-escalation rules, in one place. The principle: nobody makes anyone (themselves included) hold a
 * permission they do not hold themselves, whatever the way — binding a role, putting someone in a group that
 * holds roles, creating or editing a role, or taking over an account by resetting its password. Giving or
 * taking away the Owner role, in any of these ways, needs `organization.change_owner`.
 *
 * Used by the access decider (bindings and role definitions) and, through the `check-grant` query, by
 * membership before the commands that grant through groups or reset a password (docs/authorization.md).
 */

export const CHANGE_OWNER = 'organization.change_owner';

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

function escalation(missing: string[], what = 'the role grants'): DomainError {
  const unique = [...new Set(missing)];
  return new DomainError(ErrorCode.PRIVILEGE_ESCALATION, `${what} permissions you do not hold: ${unique.join(', ')}`, { permissions: unique });
}

function ownerOnly(what: string): DomainError {
  return new DomainError(ErrorCode.FORBIDDEN, `${what} needs ${CHANGE_OWNER}`, { permissions: [CHANGE_OWNER] });
}

/**
 * Whether `actorId` holds `permission`: organization permissions in the organization; project permissions in
 * `projectId`, or, without a project, in every project (through the project role their organization roles
 * give everywhere) — the test for a custom project role, which can be bound in any project.
 */
export function actorHolds(org: OrgIndex, actorId: string, permission: string, projectId: string | null): boolean {
  if (permissionScope(permission) === 'organization' || projectId) return org.has(actorId, permissionIndex(permission), projectId);
  return org.heldRoles(actorId).some((h) => {
    const everywhere = h.role.projectRoleEverywhere ? org.roles.get(h.role.projectRoleEverywhere) : undefined;
    return everywhere?.permissions.includes(permission) ?? false;
  });
}

/** The permissions a role gives (in `projectId` for a project role; a role giving project Admin everywhere needs that too) that the actor lacks. */
export function lacking(org: OrgIndex, actorId: string, role: Pick<RoleEntry, 'permissions' | 'projectRoleEverywhere'>, projectId: string | null): string[] {
  const missing = role.permissions.filter((p) => !actorHolds(org, actorId, p, projectId));
  const everywhere = role.projectRoleEverywhere ? org.roles.get(role.projectRoleEverywhere) : undefined;
  if (everywhere) missing.push(...everywhere.permissions.filter((p) => !actorHolds(org, actorId, p, null)));
  return missing;
}

/**
 * Whether the actor may bind `roleId` at `scope` (in `projectId` for a project role): the role exists in the
 * organization (NOT_FOUND), has that scope (ROLE_SCOPE_MISMATCH), Owner needs organization.change_owner
 * (FORBIDDEN), and the actor holds every permission it grants (PRIVILEGE_ESCALATION).
 */
export function assertAssignable(org: OrgIndex, actorId: string, roleId: string, scope: RoleScope, projectId: string | null = null): RoleEntry {
  const role = org.roles.get(roleId);
  if (!role) throw notFound('role');
  if (role.scope !== scope)
    throw new DomainError(ErrorCode.ROLE_SCOPE_MISMATCH, `role ${role.name} is a ${role.scope} role, ${scope === 'organization' ? 'an organization' : 'a project'} role is needed`);
  if (role.id === org.ownerRoleId && !actorHolds(org, actorId, CHANGE_OWNER, null)) throw ownerOnly('giving the Owner role');
  const missing = lacking(org, actorId, role, projectId);
  if (missing.length) throw escalation(missing);
  return role;
}

/** A role definition (created, edited before and after, deleted) only by someone holding every permission of it. */
export function assertMayDefine(org: OrgIndex, actorId: string, permissions: string[], what = 'the role grants'): void {
  const missing = lacking(org, actorId, { permissions }, null);
  if (missing.length) throw escalation(missing, what);
}

/** Every binding of a subject: its organization role, and its role in each project. */
function bindings(s: UserEntry | GroupEntry): Array<{ roleId: string; projectId: string | null }> {
  const all: Array<{ roleId: string; projectId: string | null }> = [];
  if (s.orgRole) all.push({ roleId: s.orgRole, projectId: null });
  for (const [projectId, roleId] of s.projectRoles) all.push({ roleId, projectId });
  return all;
}

/** The actor could bind every role the subject holds, where it holds it. */
function assertCouldBindAll(org: OrgIndex, actorId: string, subject: UserEntry | GroupEntry, ownerWhat: string, what: string): void {
  const missing: string[] = [];
  for (const b of bindings(subject)) {
    const role = org.roles.get(b.roleId);
    if (!role) continue;
    if (role.id === org.ownerRoleId && !actorHolds(org, actorId, CHANGE_OWNER, null)) throw ownerOnly(ownerWhat);
    missing.push(...lacking(org, actorId, role, b.projectId));
  }
  if (missing.length) throw escalation(missing, what);
}

function group(org: OrgIndex, groupId: string): GroupEntry {
  const g = org.groups.get(groupId);
  if (!g) throw notFound('group');
  return g;
}

/**
 * Whether the actor may make a change that grants or takes away roles other than by binding:
 * - `join-group`: putting people in a group grants them the group's roles (organization and project), so the
 *   actor must be able to bind each of them; a group holding Owner needs organization.change_owner;
 * - `leave-group` / `delete-group`: taking people out of a group holding Owner takes the Owner role away, so
 *   it needs organization.change_owner (the last Owner rule is safe: only direct Owners count for it);
 * - `new-group`: a group starts with the organization Member role, which its first members get;
 * - `take-over`: resetting someone's password gives the actor their account, so the actor must hold every
 *   permission the person holds (an Owner's password only with organization.change_owner).
 */
export function assertMayChange(org: OrgIndex, actorId: string, change: GrantChange): void {
  switch (change.kind) {
    case 'bind':
      assertAssignable(org, actorId, change.roleId, change.scope, change.projectId ?? null);
      return;
    case 'new-group':
      assertAssignable(org, actorId, org.memberRoleId, 'organization');
      return;
    case 'join-group':
      assertCouldBindAll(org, actorId, group(org, change.groupId), 'adding people to a group holding the Owner role', 'the group grants');
      return;
    case 'leave-group':
    case 'delete-group':
      if (group(org, change.groupId).orgRole === org.ownerRoleId && !actorHolds(org, actorId, CHANGE_OWNER, null))
        throw ownerOnly(change.kind === 'delete-group' ? 'deleting a group holding the Owner role' : 'taking people out of a group holding the Owner role');
      return;
    case 'take-over': {
      const user = org.users.get(change.userId);
      if (!user) throw notFound('person');
      const subjects: Array<UserEntry | GroupEntry> = [user, ...[...user.groups].map((id) => org.groups.get(id)).filter((g) => g !== undefined)];
      for (const s of subjects) assertCouldBindAll(org, actorId, s, 'resetting the password of an Owner', 'the person holds');
      return;
    }
  }
}
