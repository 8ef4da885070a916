import {
  assertAssignable,
  assertMayCreateGroupWithMembers,
  assertMayEmpty,
  assertMayJoin,
  assertMayTakeOver,
  assertNotOwnerForServiceAccounts,
  type RoleDefinition,
} from '@app/access-model';
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
import { decideBinding, type BindingCommand } from './bindings.decider';
import { evolveOrganization, initialOrganizationState, type OrganizationState } from './organization.state';

interface Scoped {
  organizationId: string;
}

export type OrganizationCommand =
  | (Scoped & { kind: 'CreateOrganization'; name: string; slug: string; ownerId: string; ownerUsername: string; via: 'creator' | 'bootstrap' })
  | (Scoped & { kind: 'AddMembers'; users: Array<{ userId: string; username: string }>; roleId?: string; via: 'invite' | 'account' })
  /** a service account (identity's) joins with a role the actor may grant, never Owner */
  | (Scoped & { kind: 'AddServiceAccount'; serviceAccountId: string; name: string; roleId?: string; checkOnly?: boolean })
  | (Scoped & { kind: 'RemoveMember'; userId: string })
  | (Scoped & { kind: 'CreateGroup'; groupId: string; name: string; description: string; memberIds: string[] })
  | (Scoped & {
      kind: 'UpdateGroup';
      groupId: string;
      name?: string;
      description?: string;
      addMemberIds?: string[];
      removeMemberIds?: string[];
      /** the whole new member list: its difference with the members the group has is decided here, on this state */
      memberIds?: string[];
    })
  | (Scoped & { kind: 'DeleteGroup'; groupId: string })
  | (Scoped & { kind: 'CreateProject'; projectId: string; name: string; ownerId: string })
  | (Scoped & { kind: 'TransferProject'; projectId: string; ownerId: string })
  | (Scoped & { kind: 'DeleteProject'; projectId: string })
  | BindingCommand
  /** whether the actor may reset the person's password (identity resets it): emits nothing */
  | (Scoped & { kind: 'ResetMemberPassword'; userId: string });

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

function event(def: { type: string; version: number }, organizationId: string, data: Record<string, unknown>): NewEvent {
  return { type: def.type, version: def.version, organizationId, data: { organizationId, ...data } };
}

function requireMembers(state: OrganizationState, userIds: string[]): void {
  const missing = [...new Set(userIds)].filter((id) => !state.users.has(id));
  if (missing.length) throw new DomainError(ErrorCode.NOT_A_MEMBER, 'every member must already belong to the organization', { userIds: missing });
}

function requireFreeGroupName(state: OrganizationState, name: string, exceptGroupId?: string): void {
  const wanted = name.trim().toLowerCase();
  const taken = [...state.groups.values()].some((g) => g.id !== exceptGroupId && g.name.trim().toLowerCase() === wanted);
  if (taken) throw new DomainError(ErrorCode.GROUP_NAME_TAKEN, `a group named ${name} already exists`, { name });
}

/** Project names are unique per organization regardless of case, as group names (histories with duplicates keep them). */
function requireFreeProjectName(state: OrganizationState, name: string): void {
  const wanted = name.trim().toLowerCase();
  if ([...state.projects.values()].some((p) => p.name.trim().toLowerCase() === wanted))
    throw new DomainError(ErrorCode.PROJECT_NAME_TAKEN, `a project named ${name} already exists`, { name });
}

/**
 * Whether deciding the command weighs what people hold (a grant, a binding, a password reset, a role's name):
 * then it needs the organization's custom roles, which authorization defines, as input.
 */
export function weighsRoles(command: OrganizationCommand): boolean {
  switch (command.kind) {
    case 'CreateOrganization':
    case 'RemoveMember':
    case 'CreateProject':
    case 'TransferProject':
    case 'DeleteProject':
      return false;
    case 'CreateGroup':
      return command.memberIds.length > 0;
    case 'UpdateGroup':
      return !!(command.addMemberIds?.length || command.removeMemberIds?.length || command.memberIds);
    default:
      return true;
  }
}

/**
 * Every rule about an organization's people and their roles, decided on its own stream (so concurrent commands,
 * retried on a version conflict, are decided one after another on the latest state): members, groups,
 * projects, bindings, the Owner rules and who may grant what (libs/access-model grants.ts). Pure: `customRoles`
 * are the organization's custom roles as authorization has them, asked right before deciding (needed when
 * `weighsRoles(command)`).
 */
export function decideOrganization(
  command: OrganizationCommand,
  state: OrganizationState,
  meta: CommandMeta,
  customRoles?: readonly RoleDefinition[],
): NewEvent[] {
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
  if (weighsRoles(command) && !customRoles) throw new Error(`${command.kind} is decided with the organization's custom roles`);
  const org = customRoles ? state.withCustomRoles(customRoles) : state;
  const actorId = meta.actor.id;

  switch (command.kind) {
    case 'AddMembers': {
      const roleId = command.roleId ?? builtInRoleId(orgId, 'member');
      // joining with a role is a binding of it (checked even when nobody is new)
      assertAssignable(org, actorId, roleId, 'organization');
      const seen = new Set<string>();
      return command.users
        .filter((u) => !state.users.has(u.userId) && !seen.has(u.userId) && seen.add(u.userId))
        .map((u) => event(OrganizationMemberAdded, orgId, { userId: u.userId, username: u.username, roleId, via: command.via }));
    }

    case 'AddServiceAccount': {
      const roleId = command.roleId ?? builtInRoleId(orgId, 'member');
      if (roleId === org.ownerRoleId) throw new DomainError(ErrorCode.PRIVILEGE_ESCALATION, 'a service account never holds the Owner role');
      assertAssignable(org, actorId, roleId, 'organization');
      if (command.checkOnly || state.users.has(command.serviceAccountId)) return [];
      return [event(OrganizationMemberAdded, orgId, { userId: command.serviceAccountId, username: command.name, roleId, via: 'service-account' })];
    }

    case 'RemoveMember': {
      const user = state.users.get(command.userId);
      if (!user) throw notFound('person');
      // Owners directly or through a group, from the bindings on this stream: a concurrent "make X Owner" is
      // decided before or after this, never beside it
      if (state.owners().includes(command.userId))
        throw new DomainError(ErrorCode.OWNER_PROTECTED, 'an Owner cannot be removed; take the Owner role away first');
      const owned = [...state.projects.values()].filter((p) => p.ownerId === command.userId);
      if (owned.length)
        throw new DomainError(ErrorCode.OWNS_PROJECTS, 'the user owns projects in this organization; transfer them first', {
          projects: owned.map((p) => ({ id: p.id, name: p.name })),
        });
      return [event(OrganizationMemberRemoved, orgId, { userId: command.userId, username: user.username, groupIds: [...user.groups] })];
    }

    case 'CreateGroup': {
      if (state.groups.has(command.groupId)) return [];
      if (command.memberIds.length) assertMayCreateGroupWithMembers(org, actorId);
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
      const group = org.groups.get(command.groupId);
      if (!group) throw notFound('group');
      if (command.memberIds) {
        if (command.addMemberIds?.length || command.removeMemberIds?.length)
          throw new DomainError(ErrorCode.VALIDATION_FAILED, 'memberIds (the whole list) cannot be combined with addMemberIds or removeMemberIds');
        const wanted = new Set(command.memberIds);
        return decideOrganization(
          {
            ...command,
            memberIds: undefined,
            addMemberIds: [...wanted].filter((id) => !group.members.has(id)),
            removeMemberIds: [...group.members].filter((id) => !wanted.has(id)),
          },
          state,
          meta,
          customRoles,
        );
      }
      if (command.addMemberIds?.length) assertMayJoin(org, actorId, group);
      if (command.removeMemberIds?.length) assertMayEmpty(org, actorId, group, 'leave');
      const name = command.name ?? group.name;
      const description = command.description ?? group.description;
      const events: NewEvent[] = [];
      if (name !== group.name || description !== group.description) {
        if (name.trim().toLowerCase() !== group.name.trim().toLowerCase()) requireFreeGroupName(state, name, group.id);
        events.push(event(GroupDetailsChanged, orgId, { groupId: group.id, name, description, previousName: group.name }));
      }
      const adds = [...new Set(command.addMemberIds ?? [])].filter((id) => !group.members.has(id));
      requireMembers(state, adds);
      assertNotOwnerForServiceAccounts(
        org,
        group.orgRole,
        adds.map((id) => state.users.get(id)),
      );
      const removes = new Set(command.removeMemberIds ?? []);
      for (const userId of adds) if (!removes.has(userId)) events.push(event(GroupMemberAdded, orgId, { groupId: group.id, groupName: name, userId }));
      for (const userId of removes)
        if (group.members.has(userId)) events.push(event(GroupMemberRemoved, orgId, { groupId: group.id, groupName: name, userId }));
      return events;
    }

    case 'DeleteGroup': {
      const group = org.groups.get(command.groupId);
      if (!group) throw notFound('group');
      assertMayEmpty(org, actorId, group, 'delete');
      return [event(GroupDeleted, orgId, { groupId: group.id, name: group.name })];
    }

    case 'CreateProject':
      if (state.projects.has(command.projectId)) return [];
      if (!state.users.has(command.ownerId)) throw notFound('organization');
      requireFreeProjectName(state, command.name);
      return [event(ProjectCreated, orgId, { projectId: command.projectId, name: command.name, ownerId: command.ownerId })];

    case 'TransferProject': {
      const project = state.projects.get(command.projectId);
      if (!project) throw notFound('project');
      if (!state.users.has(command.ownerId))
        throw new DomainError(ErrorCode.NOT_A_MEMBER, 'the new owner must be a member of the organization', { userIds: [command.ownerId] });
      if (project.ownerId === command.ownerId) return [];
      return [event(ProjectOwnerChanged, orgId, { projectId: project.id, name: project.name, ownerId: command.ownerId, previousOwnerId: project.ownerId })];
    }

    case 'DeleteProject': {
      const project = state.projects.get(command.projectId);
      if (!project) throw notFound('project');
      return [event(ProjectDeleted, orgId, { projectId: project.id, name: project.name })];
    }

    case 'AssignRole':
    case 'UnassignRole':
      return decideBinding(command, org, actorId);

    case 'ResetMemberPassword': {
      const user = org.users.get(command.userId);
      if (!user) throw notFound('person');
      assertMayTakeOver(org, actorId, user);
      return [];
    }
  }
}

export const organizationDecider: Decider<OrganizationState, OrganizationCommand> = {
  initialState: initialOrganizationState,
  evolve: evolveOrganization,
  decide: decideOrganization,
};
