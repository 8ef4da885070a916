import { OrgAccess } from '@app/access-model';
import type { CatalogueEvent } from '@app/contracts';

/**
 * One organization: its people, groups, projects and every role binding — the shared access state
 * (libs/access-model), which authorization's view folds with the same `apply`. Its roles are the built-in ones;
 * the custom roles are authorization's and come into each decision as input (`OrgAccess.withCustomRoles`).
 */
export type OrganizationState = OrgAccess;

/** Before `organization.created`. Never changed: `organization.created` starts a fresh state. */
export const initialOrganizationState: OrganizationState = Object.freeze(new OrgAccess('')) as OrgAccess;

export const organizationStreamId = (organizationId: string): string => `organization-${organizationId}`;

/**
 * Applies one event with the shared fold, in place (an immutable copy per event would make loading 100,000
 * members quadratic): the state belongs to the load that built it, from a fresh `organization.created` or a
 * freshly read snapshot, or to the cache under its per-organization lock.
 */
export function evolveOrganization(state: OrganizationState, event: CatalogueEvent): OrganizationState {
  const next = event.type === 'organization.created' ? new OrgAccess(event.data.organizationId) : state;
  next.apply(event);
  return next;
}
