import { AuthorizationSubjects, type RolesReply, type RolesRequest } from '@app/contracts';
import type { Infrastructure } from '@app/platform';
import { callService } from '../common/rpc';
import { OrganizationCache, type OrganizationDeps } from './organization.repository';

const caches = new WeakMap<Infrastructure, OrganizationCache>();

/**
 * The store, this process's organization cache, the relay and authorization's custom roles (asked right before
 * each decision that weighs roles) of one running membership service.
 */
export function organizationDeps(infra: Infrastructure): OrganizationDeps {
  let cache = caches.get(infra);
  if (!cache) caches.set(infra, (cache = new OrganizationCache()));
  return {
    db: infra.db,
    store: infra.store,
    cache,
    flush: (streamId) => infra.relay.flushStream(streamId),
    customRoles: async (organizationId, meta) =>
      (await callService<RolesReply>(infra, AuthorizationSubjects.roles(), { organizationId } satisfies RolesRequest, meta)).roles,
  };
}
