import { randomUUID } from 'node:crypto';
import { builtInRoleId, catalogueEvent, type BuiltInRoleKey, type CatalogueEvent } from '@app/contracts';
import { OrgAccess } from '@app/access-model';

/**
 * Builds the events of one organization for unit tests, as membership and authorization publish them, and
 * the state they give. Each event is checked against the catalogue as it is made (typed as the consumers get it). `org.role('owner')` is the organization's copy of a built-in role. Bindings are
 * membership's (`assigned`, `unassigned`); `legacyAssigned` / `legacyUnassigned` are authorization's old ones.
 */
export function orgHistory(organizationId: string = randomUUID()) {
  const events: CatalogueEvent[] = [];
  let accessVersion = 0;
  let membershipVersion = 0;
  const push = (service: 'membership' | 'authorization', type: string, data: Record<string, unknown>) => {
    const access = service === 'authorization';
    events.push(
      catalogueEvent({
        id: randomUUID(),
        type,
        version: 1,
        streamId: access ? `access-${organizationId}` : `organization-${organizationId}`,
        streamVersion: access ? ++accessVersion : ++membershipVersion,
        service,
        occurredAt: '2026-01-01T00:00:00.000Z',
        organizationId,
        data: { organizationId, ...data },
        metadata: { actor: { id: 'system' }, correlationId: 'c', causationId: 'c', medium: 'system' },
      }),
    );
  };
  const h = {
    organizationId,
    events,
    role: (key: BuiltInRoleKey) => builtInRoleId(organizationId, key),
    created(ownerId: string, username = 'owner') {
      push('membership', 'organization.created', { name: 'Org', slug: 'org', ownerId });
      return h.memberAdded(ownerId, 'owner', username);
    },
    memberAdded(userId: string, role: BuiltInRoleKey | string = 'member', username = `u${userId.slice(0, 6)}`) {
      push('membership', 'organization.member-added', {
        userId,
        username,
        roleId: role.includes('-') && role.length === 36 ? role : h.role(role as BuiltInRoleKey),
        via: 'invite',
      });
      return h;
    },
    memberRemoved(userId: string, groupIds: string[] = []) {
      push('membership', 'organization.member-removed', { userId, username: 'gone', groupIds });
      return h;
    },
    groupCreated(groupId: string, memberIds: string[], name = `g${groupId.slice(0, 6)}`) {
      push('membership', 'group.created', { groupId, name, description: '', memberIds, roleId: h.role('member') });
      return h;
    },
    groupDetailsChanged(groupId: string, name: string, description: string) {
      push('membership', 'group.details-changed', { groupId, name, description, previousName: name });
      return h;
    },
    groupMemberAdded(groupId: string, userId: string) {
      push('membership', 'group.member-added', { groupId, groupName: 'g', userId });
      return h;
    },
    groupMemberRemoved(groupId: string, userId: string) {
      push('membership', 'group.member-removed', { groupId, groupName: 'g', userId });
      return h;
    },
    groupDeleted(groupId: string) {
      push('membership', 'group.deleted', { groupId, name: 'g' });
      return h;
    },
    projectCreated(projectId: string, ownerId: string) {
      push('membership', 'project.created', { projectId, name: `p${projectId.slice(0, 6)}`, ownerId });
      return h;
    },
    projectDeleted(projectId: string) {
      push('membership', 'project.deleted', { projectId, name: 'p' });
      return h;
    },
    roleCreated(roleId: string, scope: 'organization' | 'project', permissions: string[], name = `r${roleId.slice(0, 6)}`) {
      push('authorization', 'role.created', { roleId, name, description: '', scope, permissions });
      return h;
    },
    roleChanged(roleId: string, scope: 'organization' | 'project', permissions: string[], name = `r${roleId.slice(0, 6)}`) {
      push('authorization', 'role.changed', { roleId, name, description: '', scope, permissions, previousName: name });
      return h;
    },
    roleDeleted(roleId: string, scope: 'organization' | 'project') {
      push('authorization', 'role.deleted', { roleId, name: 'r', scope });
      return h;
    },
    assigned(
      subjectType: 'user' | 'group',
      subjectId: string,
      roleId: string,
      projectId: string | null = null,
      service: 'membership' | 'authorization' = 'membership',
    ) {
      push(service, 'role.assigned', { subjectType, subjectId, projectId, roleId, roleName: 'r', previousRoleId: null });
      return h;
    },
    unassigned(subjectType: 'user' | 'group', subjectId: string, projectId: string, roleId: string, service: 'membership' | 'authorization' = 'membership') {
      push(service, 'role.unassigned', { subjectType, subjectId, projectId, roleId, roleName: 'r' });
      return h;
    },
    legacyAssigned(subjectType: 'user' | 'group', subjectId: string, roleId: string, projectId: string | null = null) {
      return h.assigned(subjectType, subjectId, roleId, projectId, 'authorization');
    },
    legacyUnassigned(subjectType: 'user' | 'group', subjectId: string, projectId: string, roleId: string) {
      return h.unassigned(subjectType, subjectId, projectId, roleId, 'authorization');
    },
    bindingsImported(
      subjects: Array<{ subjectType: 'user' | 'group'; subjectId: string; roleId: string | null; projectRoles: Array<{ projectId: string; roleId: string }> }>,
    ) {
      push('membership', 'organization.bindings-imported', { subjects });
      return h;
    },
    index(): OrgAccess {
      const index = new OrgAccess(organizationId);
      for (const e of events) index.apply(e);
      return index;
    },
  };
  return h;
}

/** The people of `exampleOrganization`. */
export function exampleIds() {
  return {
    owner: randomUUID(),
    owner2: randomUUID(),
    admin: randomUUID(),
    member: randomUUID(),
    group: randomUUID(),
    project: randomUUID(),
    custom: randomUUID(),
  };
}

/** For decider specs: two Owners, an Admin, a Member in a group, a project (the first Owner's) and a custom organization role "Okta viewer". */
export function exampleOrganization(ids: ReturnType<typeof exampleIds>) {
  return orgHistory()
    .created(ids.owner)
    .memberAdded(ids.owner2, 'owner')
    .memberAdded(ids.admin, 'admin')
    .memberAdded(ids.member, 'member')
    .groupCreated(ids.group, [ids.member])
    .projectCreated(ids.project, ids.owner)
    .roleCreated(ids.custom, 'organization', ['organization.view', 'organization.okta.view'], 'Okta viewer');
}
