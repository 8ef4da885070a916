import { AuthorizationSubjects, type CommandMeta, type RolesReply, type RolesRequest } from '@app/contracts';
import type { Infrastructure } from '@app/platform';
import { callService } from '../common/rpc';
import { startCustomRolesView, type CustomRolesSnapshots, type CustomRolesView } from './custom-roles';
import { customRolesSnapshotStore } from './custom-roles-snapshot';
import { OrganizationCache, type OrganizationDeps } from './organization.repository';

const caches = new WeakMap<Infrastructure, OrganizationCache>();
const views = new WeakMap<Infrastructure, CustomRolesView>();

/** Starts this process's view of the custom roles (docs/membership.md "The role change's work"); stopped on close. */
export async function startCustomRoles(infra: Infrastructure, snapshots: Omit<CustomRolesSnapshots, 'store'> | false = {}): Promise<void> {
  const view = await startCustomRolesView({ ...infra, snapshots: snapshots ? { ...snapshots, store: customRolesSnapshotStore(infra.db) } : undefined });
  views.set(infra, view);
  infra.onClose.push(() => view.stop());
}

/**
 * The store, this process's organization cache, the relay and the custom roles (asked right before each decision
 * that weighs roles) of one running membership service: from this process's view of the role events when it has
 * applied the events stream up to now, else (starting up, or the view not started) from authorization.
 */
export function organizationDeps(infra: Infrastructure): OrganizationDeps {
  let cache = caches.get(infra);
  if (!cache) caches.set(infra, (cache = new OrganizationCache()));
  const ask = async (organizationId: string, meta: CommandMeta) =>
    (await callService<RolesReply>(infra, AuthorizationSubjects.roles(), { organizationId } satisfies RolesRequest, meta)).roles;
  return {
    db: infra.db,
    store: infra.store,
    cache,
    flush: (streamId) => infra.relay.flushStream(streamId),
    customRoles: async (organizationId, meta) => (await views.get(infra)?.current(organizationId)) ?? ask(organizationId, meta),
  };
}
