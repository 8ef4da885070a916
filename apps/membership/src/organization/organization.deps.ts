import type { Infrastructure } from '@app/platform';
import { OrganizationCache, type OrganizationDeps } from './organization.repository';

const caches = new WeakMap<Infrastructure, OrganizationCache>();

/** The store, this process's organization cache and the relay of one running membership service. */
export function organizationDeps(infra: Infrastructure): OrganizationDeps {
  let cache = caches.get(infra);
  if (!cache) caches.set(infra, (cache = new OrganizationCache()));
  return { db: infra.db, store: infra.store, cache, flush: (streamId) => infra.relay.flushStream(streamId) };
}
