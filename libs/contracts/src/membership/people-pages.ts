import { organizationIdOf, type CatalogueEvent } from '../events';

/**
 * Identity's events that no people page shows: membership's people view does not fold them (people.view.spec.ts
 * checks that every event it folds changes some page here). Every other identity event may change any
 * organization's pages (a profile is shown wherever its user is).
 */
const NOT_SHOWN = new Set([
  'user.api-token-reset',
  'user.api-token-revoked',
  'user.password-set',
  'user.sessions-ended',
  'user.teleported',
  'service-account.created',
  'service-account.deactivated',
  'service-account.reactivated',
  'service-account.deleted',
  'service-account.token-created',
  'service-account.token-revoked',
]);

/**
 * Which organizations' people pages an event may change: one organization (an event of membership or
 * authorization naming it), every organization (`'all'`: a profile, a role's name, anything else of theirs),
 * or none. It errs towards more: a page dropped for nothing costs one request to membership.
 */
export function peoplePagesChangedBy(event: CatalogueEvent): string | 'all' | undefined {
  if (event.service === 'identity') return NOT_SHOWN.has(event.type) ? undefined : 'all';
  if (event.service !== 'membership' && event.service !== 'authorization') return undefined;
  return organizationIdOf(event) ?? 'all';
}
