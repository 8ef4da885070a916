import { defineEvent, S } from '../catalogue';
import { Description, EntityName, Username } from '../fields';

const svc = 'membership' as const;

/**
 * All membership events of one organization live in the stream `organization-<organizationId>` and carry
 * `organizationId` on the envelope. Role ids in these events are ids of the authorization service's roles
 * (built-in ones are `builtInRoleId(organizationId, key)`); authorization derives the bindings they imply
 * (member-added → that organization role, group-created → that role for the group, project-created →
 * project Admin for the creator) from these events without publishing events of its own for them.
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
    'A user joined the organization with an organization role (`roleId`, Member unless another was asked for). `via`: `creator` (created the organization), `invite` (added by handle), `account` (account created by the organization), `bootstrap`.',
  data: S.obj({
    organizationId: S.uuid,
    userId: S.uuid,
    username: Username.schema,
    roleId: S.uuid,
    via: S.oneOf('creator', 'invite', 'account', 'bootstrap'),
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
] as const;
