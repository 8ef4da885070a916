import {
  builtInRoleId,
  DomainError,
  ErrorCode,
  GroupCreated,
  GroupDeleted,
  GroupDetailsChanged,
  GroupMemberAdded,
  GroupMemberRemoved,
  OrganizationCreated,
  OrganizationMemberAdded,
  OrganizationMemberRemoved,
  ProjectCreated,
  ProjectDeleted,
  ProjectOwnerChanged,
  type CommandMeta,
  type NewEvent,
} from '@app/contracts';
import type { Decider } from '@app/event-store';
import { evolveOrganization, initialOrganizationState, type OrganizationState } from './organization.state';

interface Scoped {
  organizationId: string;
}

export type OrganizationCommand =
  | (Scoped & { kind: 'CreateOrganization'; name: string; slug: string; ownerId: string; ownerUsername: string; via: 'creator' | 'bootstrap' })
  | (Scoped & { kind: 'AddMembers'; users: Array<{ userId: string; username: string }>; roleId?: string; via: 'invite' | 'account' })
  /** `ownerIds`: the organization's Owners according to authorization, asked right before the command */
  | (Scoped & { kind: 'RemoveMember'; userId: string; ownerIds: string[] })
  | (Scoped & { kind: 'CreateGroup'; groupId: string; name: string; description: string; memberIds: string[] })
  | (Scoped & {
      kind: 'UpdateGroup';
      groupId: string;
      name?: string;
      description?: string;
      addMemberIds?: string[];
      removeMemberIds?: string[];
    })
  | (Scoped & { kind: 'DeleteGroup'; groupId: string })
  | (Scoped & { kind: 'CreateProject'; projectId: string; name: string; ownerId: string })
  | (Scoped & { kind: 'TransferProject'; projectId: string; ownerId: string })
  | (Scoped & { kind: 'DeleteProject'; projectId: string });

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

function event(def: { type: string; version: number }, organizationId: string, data: Record<string, unknown>): NewEvent {
  return { type: def.type, version: def.version, organizationId, data: { organizationId, ...data } };
}

function requireMembers(state: OrganizationState, userIds: string[]): void {
  const missing = [...new Set(userIds)].filter((id) => !(id in state.members));
  if (missing.length)
    throw new DomainError(ErrorCode.NOT_A_MEMBER, 'every member must already belong to the organization', { userIds: missing });
}

function requireFreeGroupName(state: OrganizationState, name: string, exceptGroupId?: string): void {
  const wanted = name.trim().toLowerCase();
  const taken = Object.values(state.groups).some((g) => g.id !== exceptGroupId && g.name.trim().toLowerCase() === wanted);
  if (taken) throw new DomainError(ErrorCode.GROUP_NAME_TAKEN, `a group named ${name} already exists`, { name });
}

/**
 * Every rule of an organization, decided on its own stream (so concurrent commands, retried on a version
 * conflict, are decided one after another on the latest state).
 */
export function decideOrganization(command: OrganizationCommand, state: OrganizationState, _meta: CommandMeta): NewEvent[] {
  const orgId = command.organizationId;
  if (command.kind === 'CreateOrganization') {
    if (state.exists) return [];
    return [
      event(OrganizationCreated, orgId, { name: command.name, slug: command.slug, ownerId: command.ownerId }),
      event(OrganizationMemberAdded, orgId, {
        userId: command.ownerId,
        username: command.ownerUsername,
        roleId: builtInRoleId(orgId, 'owner'),
        via: command.via,
      }),
    ];
  }
  if (!state.exists) throw notFound('organization');

  switch (command.kind) {
    case 'AddMembers': {
      const roleId = command.roleId ?? builtInRoleId(orgId, 'member');
      const seen = new Set<string>();
      return command.users
        .filter((u) => !(u.userId in state.members) && !seen.has(u.userId) && seen.add(u.userId))
        .map((u) => event(OrganizationMemberAdded, orgId, { userId: u.userId, username: u.username, roleId, via: command.via }));
    }

    case 'RemoveMember': {
      const username = state.members[command.userId];
      if (username === undefined) throw notFound('person');
      if (command.ownerIds.includes(command.userId))
        throw new DomainError(ErrorCode.OWNER_PROTECTED, 'an Owner cannot be removed; take the Owner role away first');
      const owned = Object.values(state.projects).filter((p) => p.ownerId === command.userId);
      if (owned.length)
        throw new DomainError(ErrorCode.OWNS_PROJECTS, 'the user owns projects in this organization; transfer them first', {
          projects: owned.map((p) => ({ id: p.id, name: p.name })),
        });
      const groupIds = Object.values(state.groups)
        .filter((g) => g.memberIds.includes(command.userId))
        .map((g) => g.id);
      return [event(OrganizationMemberRemoved, orgId, { userId: command.userId, username, groupIds })];
    }

    case 'CreateGroup': {
      if (command.groupId in state.groups) return [];
      requireFreeGroupName(state, command.name);
      requireMembers(state, command.memberIds);
      return [
        event(GroupCreated, orgId, {
          groupId: command.groupId,
          name: command.name,
          description: command.description,
          memberIds: [...new Set(command.memberIds)],
          roleId: builtInRoleId(orgId, 'member'),
        }),
      ];
    }

    case 'UpdateGroup': {
      const group = state.groups[command.groupId];
      if (!group) throw notFound('group');
      const name = command.name ?? group.name;
      const description = command.description ?? group.description;
      const events: NewEvent[] = [];
      if (name !== group.name || description !== group.description) {
        if (name.trim().toLowerCase() !== group.name.trim().toLowerCase()) requireFreeGroupName(state, name, group.id);
        events.push(event(GroupDetailsChanged, orgId, { groupId: group.id, name, description, previousName: group.name }));
      }
      const adds = [...new Set(command.addMemberIds ?? [])].filter((id) => !group.memberIds.includes(id));
      requireMembers(state, adds);
      const removes = new Set(command.removeMemberIds ?? []);
      for (const userId of adds) if (!removes.has(userId)) events.push(event(GroupMemberAdded, orgId, { groupId: group.id, groupName: name, userId }));
      for (const userId of removes)
        if (group.memberIds.includes(userId)) events.push(event(GroupMemberRemoved, orgId, { groupId: group.id, groupName: name, userId }));
      return events;
    }

    case 'DeleteGroup': {
      const group = state.groups[command.groupId];
      if (!group) throw notFound('group');
      return [event(GroupDeleted, orgId, { groupId: group.id, name: group.name })];
    }

    case 'CreateProject':
      if (command.projectId in state.projects) return [];
      if (!(command.ownerId in state.members)) throw notFound('organization');
      return [event(ProjectCreated, orgId, { projectId: command.projectId, name: command.name, ownerId: command.ownerId })];

    case 'TransferProject': {
      const project = state.projects[command.projectId];
      if (!project) throw notFound('project');
      if (!(command.ownerId in state.members))
        throw new DomainError(ErrorCode.NOT_A_MEMBER, 'the new owner must be a member of the organization', { userIds: [command.ownerId] });
      if (project.ownerId === command.ownerId) return [];
      return [
        event(ProjectOwnerChanged, orgId, { projectId: project.id, name: project.name, ownerId: command.ownerId, previousOwnerId: project.ownerId }),
      ];
    }

    case 'DeleteProject': {
      const project = state.projects[command.projectId];
      if (!project) throw notFound('project');
      return [event(ProjectDeleted, orgId, { projectId: project.id, name: project.name })];
    }
  }
}

export const organizationDecider: Decider<OrganizationState, OrganizationCommand> = {
  initialState: initialOrganizationState,
  evolve: evolveOrganization,
  decide: decideOrganization,
};
