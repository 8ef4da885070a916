import { defineEvent, S } from '../catalogue';
import { Description, EntityName } from '../fields';

const svc = 'authorization' as const;
const scope = S.oneOf('organization', 'project');
const permissions = S.arrayOf(S.str(100));

/**
 * Custom roles and explicit role bindings of one organization, in the stream `access-<organizationId>`.
 * Built-in roles are not events: every organization has them, with ids `builtInRoleId(organizationId, key)`.
 * Bindings implied by membership events (see membership/events.ts) are not published again here.
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
  data: S.obj({ organizationId: S.uuid, roleId: S.uuid, name: EntityName.schema, description: Description.schema, scope, permissions, previousName: EntityName.schema }),
});

export const RoleDeleted = defineEvent({
  service: svc,
  type: 'role.deleted',
  version: 1,
  organizationScoped: true,
  description: 'A custom role that nobody held was deleted.',
  data: S.obj({ organizationId: S.uuid, roleId: S.uuid, name: EntityName.schema, scope }),
});

const binding = {
  organizationId: S.uuid,
  subjectType: S.oneOf('user', 'group'),
  subjectId: S.uuid,
  /** null: organization scope */
  projectId: S.nullable(S.uuid),
  roleId: S.uuid,
  roleName: EntityName.schema,
};

export const RoleAssigned = defineEvent({
  service: svc,
  type: 'role.assigned',
  version: 1,
  organizationScoped: true,
  description:
    'A user or group was given a role in the organization (`projectId` null) or in a project. It replaces the role the subject held there directly (`previousRoleId`, null if none).',
  data: S.obj({ ...binding, previousRoleId: S.nullable(S.uuid) }),
});

export const RoleUnassigned = defineEvent({
  service: svc,
  type: 'role.unassigned',
  version: 1,
  organizationScoped: true,
  description: 'A user or group lost the role it held directly in a project (removed from the project members).',
  data: S.obj(binding),
});

export const AUTHORIZATION_EVENTS = [RoleCreated, RoleChanged, RoleDeleted, RoleAssigned, RoleUnassigned] as const;
