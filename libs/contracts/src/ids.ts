import { createHash } from 'node:crypto';

/** A UUID derived from a string, for ids that every replica must compute alike (bootstrap). */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16], 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Id of the user created from BOOTSTRAP_ADMIN_EMAIL: identity creates it, membership makes it Owner. */
export const bootstrapAdminUserId = (email: string): string => stableUuid(`bootstrap-user:${email.toLowerCase()}`);

/** `My Org!` → `my-org` */
export const slugify = (name: string): string =>
  name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50) || 'organization';

/** Keys of the built-in roles of RBAC.md; every organization has one read-only copy of each. */
export const BUILT_IN_ROLE_KEYS = ['owner', 'admin', 'member', 'project-admin', 'project-contributor', 'project-reader'] as const;
export type BuiltInRoleKey = (typeof BUILT_IN_ROLE_KEYS)[number];

/** Id of an organization's copy of a built-in role: the same on every replica, without any event. */
export const builtInRoleId = (organizationId: string, key: BuiltInRoleKey): string => stableUuid(`role:${organizationId}:${key}`);
