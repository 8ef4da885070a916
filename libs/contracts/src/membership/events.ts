import { defineEvent, S } from '../catalogue';
import { Description, EntityName, Username } from '../fields';

const svc = 'membership' as const;

/**
 * All membership events of one organization live in the stream `organization-<organizationId>` and carry
 * `organizationId` on the envelope: its people, groups, projects and every role binding (organization and
 * project roles of users and groups), so that one decider decides every rule about people and their roles.
 * Role ids are ids of the authorization service's roles (built-in ones are `builtInRoleId(organizationId,
 * key)`; custom ones are defined on authorization's `access-<organizationId>`). Some events imply bindings:
 * member-added → that organization role, group-created → that role for the group, project-created → project
 * Admin for the creator; `role.assigned` / `role.unassigned` are the explicit ones.
 */
export const OrganizationCreated = defineEvent({
  service: svc,
  type: 'organization.created',
  version: 1,
  organizationScoped: true,
  description:
    'An organization was created. Always followed, in the same commit, by `organization.member-added` of its creator (`ownerId`) with the Owner role.',
  data: S.obj({ organizationId: S.uuid, name: EntityName.schema, slug: S.str(50), ownerId: S.uuid }),
});

export const OrganizationMemberAdded = defineEvent({
  service: svc,
  type: 'organization.member-added',
  version: 1,
  organizationScoped: true,
  description:
    "A user joined the organization with an organization role (`roleId`, Member unless another was asked for). `via`: `creator` (created the organization), `invite` (added by handle), `account` (account created by the organization), `bootstrap`, `service-account` (a service account of the organization, identity's `service-account.created`: the member is not a person; `username` is its name).",
  data: S.obj({
    organizationId: S.uuid,
    userId: S.uuid,
    username: Username.schema,
    roleId: S.uuid,
    via: S.oneOf('creator', 'invite', 'account', 'bootstrap', 'service-account'),
  }),
});

export const OrganizationMemberRemoved = defineEvent({
  service: svc,
  type: 'organization.member-removed',
  version: 1,
  organizationScoped: true,
  description:
    'A user left the organization. They are no longer in any of its groups (no separate `group.member-removed` events) and every role binding they had in it, at organization and project scope, is gone.',
  data: S.obj({ organizationId: S.uuid, userId: S.uuid, username: Username.schema, groupIds: S.arrayOf(S.uuid) }),
});

export const GroupCreated = defineEvent({
  service: svc,
  type: 'group.created',
  version: 1,
  organizationScoped: true,
  description: 'A group was created with its first members; it holds the organization role `roleId` (Member).',
  data: S.obj({
    organizationId: S.uuid,
    groupId: S.uuid,
    name: EntityName.schema,
    description: Description.schema,
    memberIds: S.arrayOf(S.uuid),
    roleId: S.uuid,
  }),
});

export const GroupDetailsChanged = defineEvent({
  service: svc,
  type: 'group.details-changed',
  version: 1,
  organizationScoped: true,
  description: 'A group was renamed or its description changed; both current values are given.',
  data: S.obj({ organizationId: S.uuid, groupId: S.uuid, name: EntityName.schema, description: Description.schema, previousName: EntityName.schema }),
});

export const GroupMemberAdded = defineEvent({
  service: svc,
  type: 'group.member-added',
  version: 1,
  organizationScoped: true,
  description: 'A member of the organization joined a group (one event per user).',
  data: S.obj({ organizationId: S.uuid, groupId: S.uuid, groupName: EntityName.schema, userId: S.uuid }),
});

export const GroupMemberRemoved = defineEvent({
  service: svc,
  type: 'group.member-removed',
  version: 1,
  organizationScoped: true,
  description: 'A user left a group (one event per user); they lose what the group gave them.',
  data: S.obj({ organizationId: S.uuid, groupId: S.uuid, groupName: EntityName.schema, userId: S.uuid }),
});

export const GroupDeleted = defineEvent({
  service: svc,
  type: 'group.deleted',
  version: 1,
  organizationScoped: true,
  description: 'A group was deleted; every role binding it had (organization and project) is gone.',
  data: S.obj({ organizationId: S.uuid, groupId: S.uuid, name: EntityName.schema }),
});

export const ProjectCreated = defineEvent({
  service: svc,
  type: 'project.created',
  version: 1,
  organizationScoped: true,
  description: 'A project was created; its creator (`ownerId`) owns it and holds the project Admin role on it.',
  data: S.obj({ organizationId: S.uuid, projectId: S.uuid, name: EntityName.schema, ownerId: S.uuid }),
});

export const ProjectOwnerChanged = defineEvent({
  service: svc,
  type: 'project.owner-changed',
  version: 1,
  organizationScoped: true,
  description: 'Ownership of a project was transferred. No role binding changes with it.',
  data: S.obj({ organizationId: S.uuid, projectId: S.uuid, name: EntityName.schema, ownerId: S.uuid, previousOwnerId: S.nullable(S.uuid) }),
});

export const ProjectDeleted = defineEvent({
  service: svc,
  type: 'project.deleted',
  version: 1,
  organizationScoped: true,
  description: 'A project was deleted; every role binding on it is gone.',
  data: S.obj({ organizationId: S.uuid, projectId: S.uuid, name: EntityName.schema }),
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
    'A user or group was given a role in the organization (`projectId` null) or in a project. It replaces the role the subject held there directly (`previousRoleId`, null if none). An organization role that no longer exists (deleted concurrently) counts as Member; a project role that no longer exists grants nothing.',
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

export const OrganizationBindingsImported = defineEvent({
  service: svc,
  type: 'organization.bindings-imported',
  version: 1,
  organizationScoped: true,
  description:
    "Every role binding of the listed users and groups, restated once by the migration that moved bindings from authorization's `access-<organizationId>` stream (legacy `role.assigned` / `role.unassigned` of authorization) to the organization stream (`npm run migrate:bindings`). For each listed subject, `roleId` is its organization role and `projectRoles` its project roles, replacing what it held; later legacy binding events of authorization are ignored. A large organization is restated in several events of one commit. Changes nothing anyone can do: no audit entry.",
  data: S.obj({
    organizationId: S.uuid,
    subjects: S.arrayOf(
      S.obj({
        subjectType: S.oneOf('user', 'group'),
        subjectId: S.uuid,
        roleId: S.nullable(S.uuid),
        projectRoles: S.arrayOf(S.obj({ projectId: S.uuid, roleId: S.uuid })),
      }),
    ),
  }),
});

export const MEMBERSHIP_EVENTS = [
  OrganizationCreated,
  OrganizationMemberAdded,
  OrganizationMemberRemoved,
  GroupCreated,
  GroupDetailsChanged,
  GroupMemberAdded,
  GroupMemberRemoved,
  GroupDeleted,
  ProjectCreated,
  ProjectOwnerChanged,
  ProjectDeleted,
  RoleAssigned,
  RoleUnassigned,
  OrganizationBindingsImported,
] as const;
