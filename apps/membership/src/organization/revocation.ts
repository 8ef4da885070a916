import type { OrgAccess, RoleEntry } from '@app/access-model';
import { isEvent, RoleAssigned, type DomainEvent } from '@app/contracts';

/** Events that only add: a member, a group, a project, a group member, new details. Nobody loses a permission. */
const ADDS_ONLY = new Set([
  'organization.created',
  'organization.member-added',
  'group.created',
  'group.member-added',
  'group.details-changed',
  'project.created',
]);

/** every permission `held` grants, `next` grants too (bits, and the project role the role gives everywhere) */
function covers(roles: OrgAccess['roles'], next: RoleEntry | undefined, held: RoleEntry | undefined): boolean {
  if (!held) return true;
  if (!next || held.bits.some((word, i) => (word & ~next.bits[i]) !== 0)) return false;
  if (!held.projectRoleEverywhere) return true;
  return !!next.projectRoleEverywhere && covers(roles, roles.get(next.projectRoleEverywhere), roles.get(held.projectRoleEverywhere));
}

/**
 * Whether an event can take a permission away from someone (a revocation): then the command waits until its
 * events are in JetStream before it answers, so that every later request, through any gateway, is decided
 * without it (docs/architecture.md "Writes that do not wait on the broker"). False only for what adds, and
 * for a role replaced by one that grants all it granted; every other event counts as a revocation.
 * `state`: the organization with its custom roles, as the command was decided on.
 */
export function mayRevoke(event: DomainEvent, state: OrgAccess): boolean {
  if (ADDS_ONLY.has(event.type)) return false;
  if (!isEvent(event, RoleAssigned)) return true;
  const { previousRoleId, roleId, projectId } = event.data;
  if (previousRoleId === null) return false;
  // an organization role that no longer exists counts as Member; a project role that no longer exists grants nothing
  const held = state.roles.get(previousRoleId) ?? (projectId === null ? state.roles.get(state.memberRoleId) : undefined);
  return !covers(state.roles, state.roles.get(roleId), held);
}
