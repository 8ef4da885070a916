import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const REQUIRED_PERMISSION = 'requiredPermission';

export type PermissionRequirement =
  /** organization permission in the organization of the `:org` path parameter */
  | { kind: 'organization'; permission: string }
  /** project permission in the project of the `:projectId` path parameter (which must belong to `:org`) */
  | { kind: 'project'; permission: string }
  /**
   * any authenticated user, no organization permission (e.g. POST /organizations, /me); a service account's
   * token only where `serviceAccounts` says so (it is no person: no profile, password or organizations of its own)
   */
  | { kind: 'any-user'; serviceAccounts?: boolean }
  /**
   * a member of `:org`; the handler checks the rest itself (e.g. permissions/check on another user).
   * `checkedByRoute`: the guard only resolves `:org` and the handler's own check of the caller (which must answer
   * 404 for a non-member) is the membership check, so the request costs one hop to authorization, not two
   */
  | { kind: 'member'; checkedByRoute?: true };

/**
 * Every route declares what it needs: one of these decorators, or @Public(). The permission guard
 * (authorization) enforces it: not a member of `:org` (or `:projectId` not in it) → 404; a member without
 * the permission → 403 FORBIDDEN naming it. A test lists all routes and fails on any without a declaration.
 */
/** The requirement as route metadata (for the guard) and as `x-permission` in the OpenAPI operation (its description). */
const requires = (requirement: PermissionRequirement) =>
  applyDecorators(SetMetadata(REQUIRED_PERMISSION, requirement), ApiExtension('x-permission', requirement));

export const RequirePermission = (permission: string) => requires({ kind: 'organization', permission });
export const RequireProjectPermission = (permission: string) => requires({ kind: 'project', permission });
export const AnyUser = (opts: { serviceAccounts?: boolean } = {}) => requires({ kind: 'any-user', ...(opts.serviceAccounts ? { serviceAccounts: true } : {}) });
export const OrganizationMember = (opts: { checkedByRoute?: true } = {}) => requires({ kind: 'member', ...opts });
