import { DomainError, ErrorCode, permissionScope, type RoleScope } from '@app/contracts';
import type { GroupEntry, OrgAccess, RoleEntry, UserEntry } from './org-access';
import { permissionIndex } from './permission-set';

/**
 * The anti-escalation rules, in one place. The principle: nobody makes anyone (themselves included) hold a
 * permission they do not hold themselves, whatever the way — binding a role, putting someone in a group that
 * holds roles, creating or editing a role, or taking over an account by resetting its password. Giving or
 * taking away the Owner role, in any of these ways, needs `organization.change_owner`.
 *
 * Evaluated on one organization's state: by membership's organization decider (bindings, group members,
 * invitations, password resets) with the custom roles authorization defines, and by authorization's access
 * decider (role definitions) on its view (docs/authorization.md, "One principle, one file").
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
export function actorHolds(org: OrgAccess, actorId: string, permission: string, projectId: string | null): boolean {
  if (permissionScope(permission) === 'organization' || projectId) return org.has(actorId, permissionIndex(permission), projectId);
  return org.heldRoles(actorId).some((h) => {
    const everywhere = h.role.projectRoleEverywhere ? org.roles.get(h.role.projectRoleEverywhere) : undefined;
    return everywhere?.permissions.includes(permission) ?? false;
  });
}

/** The permissions a role gives (in `projectId` for a project role; a role giving project Admin everywhere needs that too) that the actor lacks. */
export function lacking(org: OrgAccess, actorId: string, role: Pick<RoleEntry, 'permissions' | 'projectRoleEverywhere'>, projectId: string | null): string[] {
  const missing = role.permissions.filter((p) => !actorHolds(org, actorId, p, projectId));
  const everywhere = role.projectRoleEverywhere ? org.roles.get(role.projectRoleEverywhere) : undefined;
  if (everywhere) missing.push(...everywhere.permissions.filter((p) => !actorHolds(org, actorId, p, null)));
  return missing;
}

const holdsChangeOwner = (org: OrgAccess, actorId: string) => actorHolds(org, actorId, CHANGE_OWNER, null);

/**
 * Whether the actor may bind `roleId` at `scope` (in `projectId` for a project role): the role exists in the
 * organization (NOT_FOUND), has that scope (ROLE_SCOPE_MISMATCH), Owner needs organization.change_owner
 * (FORBIDDEN), and the actor holds every permission it grants (PRIVILEGE_ESCALATION).
 */
export function assertAssignable(org: OrgAccess, actorId: string, roleId: string, scope: RoleScope, projectId: string | null = null): RoleEntry {
  const role = org.roles.get(roleId);
  if (!role) throw notFound('role');
  if (role.scope !== scope)
    throw new DomainError(
      ErrorCode.ROLE_SCOPE_MISMATCH,
      `role ${role.name} is a ${role.scope} role, ${scope === 'organization' ? 'an organization' : 'a project'} role is needed`,
    );
  if (role.id === org.ownerRoleId && !holdsChangeOwner(org, actorId)) throw ownerOnly('giving the Owner role');
  const missing = lacking(org, actorId, role, projectId);
  if (missing.length) throw escalation(missing);
  return role;
}

/**
 * A service account never holds Owner, directly or through a group (it could not be taken away from a pipeline
 * that leaked its token by anyone but another Owner, and an organization must be owned by people):
 * PRIVILEGE_ESCALATION whether or not the actor could grant Owner to a person.
 */
export function assertNotOwnerForServiceAccounts(org: OrgAccess, roleId: string | null, members: Iterable<UserEntry | undefined>): void {
  if (roleId !== org.ownerRoleId) return;
  for (const m of members)
    if (m?.serviceAccount) throw new DomainError(ErrorCode.PRIVILEGE_ESCALATION, 'a service account never holds the Owner role', { serviceAccountId: m.id });
}

/** Taking the Owner role away from someone (binding another organization role in its place) needs organization.change_owner. */
export function assertMayReplace(org: OrgAccess, actorId: string, currentRoleId: string | null): void {
  if (currentRoleId === org.ownerRoleId && !holdsChangeOwner(org, actorId)) throw ownerOnly('taking away the Owner role');
}

/** A role definition (created, edited before and after, deleted) only by someone holding every permission of it. */
export function assertMayDefine(org: OrgAccess, actorId: string, permissions: string[], what = 'the role grants'): void {
  const missing = lacking(org, actorId, { permissions }, null);
  if (missing.length) throw escalation(missing, what);
}

/** The actor could bind every role the subject holds, where it holds it (an organization role that no longer exists counts as Member). */
function assertCouldBindAll(org: OrgAccess, actorId: string, subject: UserEntry | GroupEntry, ownerWhat: string, what: string): void {
  const held: Array<[RoleEntry | undefined, string | null]> = [[org.orgRoleOf(subject), null]];
  for (const [projectId, roleId] of subject.projectRoles) held.push([org.roles.get(roleId), projectId]);
  const missing: string[] = [];
  for (const [role, projectId] of held) {
    if (!role) continue;
    if (role.id === org.ownerRoleId && !holdsChangeOwner(org, actorId)) throw ownerOnly(ownerWhat);
    missing.push(...lacking(org, actorId, role, projectId));
  }
  if (missing.length) throw escalation(missing, what);
}

/** Putting people in a group grants them the group's roles (organization and project): the actor must be able to bind each; a group holding Owner needs organization.change_owner. */
export function assertMayJoin(org: OrgAccess, actorId: string, group: GroupEntry): void {
  assertCouldBindAll(org, actorId, group, 'adding people to a group holding the Owner role', 'the group grants');
}

/** Taking people out of (or deleting) a group holding Owner takes the Owner role away: organization.change_owner (the last-Owner rule counts direct Owners only, so it is safe). */
export function assertMayEmpty(org: OrgAccess, actorId: string, group: GroupEntry, what: 'delete' | 'leave'): void {
  if (group.orgRole === org.ownerRoleId && !holdsChangeOwner(org, actorId))
    throw ownerOnly(what === 'delete' ? 'deleting a group holding the Owner role' : 'taking people out of a group holding the Owner role');
}

/** A new group with members gives them its starting Member role. */
export function assertMayCreateGroupWithMembers(org: OrgAccess, actorId: string): void {
  assertAssignable(org, actorId, org.memberRoleId, 'organization');
}

/** Resetting someone's password gives the actor their account: the actor must hold every permission the person holds (an Owner's only with organization.change_owner). */
export function assertMayTakeOver(org: OrgAccess, actorId: string, user: UserEntry): void {
  const subjects: Array<UserEntry | GroupEntry> = [user, ...[...user.groups].map((id) => org.groups.get(id)).filter((g) => g !== undefined)];
  for (const s of subjects) assertCouldBindAll(org, actorId, s, 'resetting the password of an Owner', 'the person holds');
}
