import { createContext, useContext } from 'react';
import type { Schemas } from './api/client';
import { api, ok } from './api/client';

export type Organization = Schemas['OrganizationResponse'];
export type Role = Schemas['RoleResponse'];

/** The organization a page is about and the viewer's own permissions in it (to hide what they may not do; the API still decides). */
export interface OrgContextValue {
  org: Organization;
  permissions: Set<string>;
  can(permission: string): boolean;
  reloadPermissions(): void;
}

export const OrgContext = createContext<OrgContextValue | undefined>(undefined);

export function useOrg(): OrgContextValue {
  const value = useContext(OrgContext);
  if (!value) throw new Error('useOrg outside an organization page');
  return value;
}

export async function loadOrgContext(orgRef: string, userId: string) {
  const org = await ok(api.GET('/api/v1/organizations/{org}', { params: { path: { org: orgRef } } }));
  const effective = await ok(api.GET('/api/v1/organizations/{org}/people/{userId}/permissions', { params: { path: { org: org.id, userId } } }));
  return { org, permissions: new Set(effective.permissions.filter((p) => p.scope === 'organization').map((p) => p.name)) };
}

/** The organization roles the viewer may give: those whose every permission they hold; Owner also needs organization.change_owner. */
export function grantable(roles: Role[], permissions: Set<string>): Role[] {
  return roles.filter(
    (r) =>
      r.scope === 'organization' &&
      r.permissions.every((p) => permissions.has(p)) &&
      (r.name !== 'Owner' || !r.builtIn || permissions.has('organization.change_owner')),
  );
}

/** The organization's roles of a scope (built-in and custom); without organization.custom_roles.view, the built-in ones by name. */
export async function loadRoles(orgId: string, scope: 'organization' | 'project', canView: boolean): Promise<Role[]> {
  if (!canView) {
    const names = scope === 'organization' ? ['Owner', 'Admin', 'Member'] : ['Admin', 'Contributor', 'Reader'];
    return names.map((name) => ({ id: name, name, description: '', scope, permissions: [], builtIn: true }));
  }
  const roles: Role[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok(api.GET('/api/v1/organizations/{org}/roles', { params: { path: { org: orgId }, query: { scope, limit: 500, cursor } } }));
    roles.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return roles;
}

export type Person = Schemas['PersonResponse'];

/** The first `limit` users and groups of the organization (names for ids in pickers and lists; search finds the rest). */
export async function loadPeople(orgId: string, query: { search?: string; type?: 'user' | 'group'; limit?: number } = {}): Promise<Person[]> {
  const page = await ok(
    api.GET('/api/v1/organizations/{org}/people', {
      params: {
        path: { org: orgId },
        query: { limit: query.limit ?? 100, ...(query.search ? { search: query.search } : {}), ...(query.type ? { type: query.type } : {}) },
      },
    }),
  );
  return page.items;
}

export const personLabel = (p: Pick<Person, 'name' | 'username'>) => p.username ?? p.name;
