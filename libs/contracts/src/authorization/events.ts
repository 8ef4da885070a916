import { defineEvent, S } from '../catalogue';
import { Description, EntityName } from '../fields';
import { RoleAssigned, RoleUnassigned } from '../membership/events';

const svc = 'authorization' as const;
const scope = S.oneOf('organization', 'project');
const permissions = S.arrayOf(S.str(100));

/**
 * Custom roles of one organization, in the stream `access-<organizationId>`. Built-in roles are not events:
 * every organization has them, with ids `builtInRoleId(organizationId, key)`. Role bindings are membership's
 * (membership/events.ts); the binding events of this stream below are legacy.
 */
export const RoleCreated = defineEvent({
  service: svc,
  type: 'role.created',
  version: 1,
  organizationScoped: true,
  description: 'A custom role was created.',
  data: S.obj({ organizationId: S.uuid, roleId: S.uuid, name: EntityName.schema, description: Description.schema, scope, permissions }),
});

export const RoleChanged = defineEvent({
  service: svc,
  type: 'role.changed',
  version: 1,
  organizationScoped: true,
  description: 'A custom role was edited; all current values are given (permissions replace the old ones). Its holders get the new permissions at once.',
  data: S.obj({
    organizationId: S.uuid,
    roleId: S.uuid,
    name: EntityName.schema,
    description: Description.schema,
    scope,
    permissions,
    previousName: EntityName.schema,
  }),
});

export const RoleDeleted = defineEvent({
  service: svc,
  type: 'role.deleted',
  version: 1,
  organizationScoped: true,
  description: 'A custom role that nobody held was deleted.',
  data: S.obj({ organizationId: S.uuid, roleId: S.uuid, name: EntityName.schema, scope }),
});

/**
 * Legacy: bindings lived on `access-<organizationId>` until they moved to membership's organization stream
 * (membership/events.ts, same data). No longer published; kept so that old histories stay readable (the
 * authorization view and the people and audit projections still apply them, and `npm run migrate:bindings`
 * folds them into `organization.bindings-imported`).
 */
export const LegacyRoleAssigned = defineEvent({
  service: svc,
  type: 'role.assigned',
  version: 1,
  organizationScoped: true,
  description: `Legacy, no longer published (bindings are membership's now: \`evt.membership.role.assigned.v1\`, same data). ${RoleAssigned.description}`,
  data: RoleAssigned.data,
});

export const LegacyRoleUnassigned = defineEvent({
  service: svc,
  type: 'role.unassigned',
  version: 1,
  organizationScoped: true,
  description: `Legacy, no longer published (bindings are membership's now: \`evt.membership.role.unassigned.v1\`, same data). ${RoleUnassigned.description}`,
  data: RoleUnassigned.data,
});

export const AUTHORIZATION_EVENTS = [RoleCreated, RoleChanged, RoleDeleted, LegacyRoleAssigned, LegacyRoleUnassigned] as const;
