import { assertAssignable, assertMayReplace, assertNotOwnerForServiceAccounts, type OrgAccess } from '@app/access-model';
import { DomainError, ErrorCode, RoleAssigned, RoleUnassigned, type NewEvent, type RoleScope } from '@app/contracts';

/** Role bindings of users and groups, decided on the organization's state with its custom roles (organization.decider.ts). */
export type BindingCommand =
  | { kind: 'AssignRole'; organizationId: string; subjectType: 'user' | 'group'; subjectId: string; projectId: string | null; roleId: string }
  | { kind: 'UnassignRole'; organizationId: string; projectId: string; subjectId: string };

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

function event(def: { type: string; version: number }, organizationId: string, data: Record<string, unknown>): NewEvent {
  return { type: def.type, version: def.version, organizationId, data: { organizationId, ...data } };
}

/**
 * AssignRole: the subject's organization role (`projectId` null) or its role on a project, replacing the one it
 * held there. Project roles only for members of the organization (NOT_A_MEMBER); the role exists with that
 * scope, the actor could hold it (grants.ts); giving or taking Owner needs organization.change_owner; the last
 * user holding Owner directly keeps it (LAST_OWNER; Owners through a group do not count, since emptying or
 * deleting a group must never leave the organization without one). The same role again: checked, then nothing.
 */
function assign(command: Extract<BindingCommand, { kind: 'AssignRole' }>, org: OrgAccess, actorId: string): NewEvent[] {
  const { organizationId, subjectType, subjectId, projectId } = command;
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
  if (projectId === null) {
    assertMayReplace(org, actorId, current);
    const members = subjectType === 'user' ? [org.users.get(subjectId)] : [...(org.groups.get(subjectId)?.members ?? [])].map((id) => org.users.get(id));
    assertNotOwnerForServiceAccounts(org, command.roleId, members);
  }
  const role = assertAssignable(org, actorId, command.roleId, scope, projectId);
  if (projectId === null && subjectType === 'user' && current === org.ownerRoleId && org.directOwners().every((id) => id === subjectId))
    throw new DomainError(ErrorCode.LAST_OWNER, 'the last Owner of the organization keeps the role');
  return [event(RoleAssigned, organizationId, { subjectType, subjectId, projectId, roleId: role.id, roleName: role.name, previousRoleId: current })];
}

/** UnassignRole: the subject's direct binding on the project goes (NOT_FOUND without one). */
function unassign(command: Extract<BindingCommand, { kind: 'UnassignRole' }>, org: OrgAccess): NewEvent[] {
  if (!org.projects.has(command.projectId)) throw notFound('project');
  const user = org.users.get(command.subjectId);
  const subject = user ?? org.groups.get(command.subjectId);
  const roleId = subject?.projectRoles.get(command.projectId);
  if (!subject || !roleId) throw notFound('project member');
  return [
    event(RoleUnassigned, command.organizationId, {
      subjectType: user ? 'user' : 'group',
      subjectId: subject.id,
      projectId: command.projectId,
      roleId,
      roleName: org.roles.get(roleId)?.name ?? 'Deleted role',
    }),
  ];
}

export function decideBinding(command: BindingCommand, org: OrgAccess, actorId: string): NewEvent[] {
  return command.kind === 'AssignRole' ? assign(command, org, actorId) : unassign(command, org);
}
