import { ValidateBy, isUUID } from 'class-validator';
import { BUILT_IN_ROLES, builtInRoleId, type RoleScope } from '@app/contracts';

/** The names a body may give instead of a role id: the built-in roles' (`Admin` is both an organization and a project role). */
export const BUILT_IN_ROLE_NAMES: readonly string[] = [...new Set(BUILT_IN_ROLES.map((d) => d.name))];

export const ROLE_REF_DESCRIPTION = `a role id, or the name of a built-in role (case-sensitive): ${BUILT_IN_ROLE_NAMES.join(', ')}`;

/** A `roleId` field: a UUID or a built-in role's name. */
export const IsRoleRef = (): PropertyDecorator =>
  ValidateBy({
    name: 'is-role-ref',
    validator: {
      validate: (value: unknown) => isUUID(value) || (typeof value === 'string' && BUILT_IN_ROLE_NAMES.includes(value)),
      defaultMessage: (args) =>
        typeof args?.value === 'string'
          ? `${args.property} must be a role id (UUID) or one of ${BUILT_IN_ROLE_NAMES.join(', ')} (case-sensitive)`
          : `${args?.property} must be a string (a role id or a built-in role name), not ${args?.value === null ? 'null' : typeof args?.value}`,
    },
  });

/**
 * The role id a validated `roleId` names in `organizationId`: an id as given (lowercased), a built-in role's
 * name as that role of the organization in `scope`, where the endpoint uses it (`Admin` on a project binding is
 * project Admin). A name of the other scope only (`Reader` for an organization role) gives that role, which the
 * service refuses with ROLE_SCOPE_MISMATCH as it would its id.
 */
export function roleIdOf(organizationId: string, ref: string, scope: RoleScope): string {
  if (isUUID(ref)) return ref.toLowerCase();
  const def = BUILT_IN_ROLES.find((d) => d.name === ref && d.scope === scope) ?? BUILT_IN_ROLES.find((d) => d.name === ref);
  if (!def) throw new Error(`not a role reference: ${ref}`);
  return builtInRoleId(organizationId, def.key);
}

export const optionalRoleIdOf = (organizationId: string, ref: string | undefined, scope: RoleScope): string | undefined =>
  ref === undefined ? undefined : roleIdOf(organizationId, ref, scope);
