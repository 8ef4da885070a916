import type { DomainEvent } from '@app/contracts';

export interface GroupState {
  id: string;
  name: string;
  description: string;
  memberIds: string[];
}

export interface ProjectState {
  id: string;
  name: string;
  ownerId: string;
}

/**
 * One organization: its members, groups and projects. Plain objects (keyed by id) so that the state can be
 * stored as a snapshot as it is.
 */
export interface OrganizationState {
  exists: boolean;
  id?: string;
  name?: string;
  slug?: string;
  ownerId?: string;
  /** userId → username */
  members: Record<string, string>;
  groups: Record<string, GroupState>;
  projects: Record<string, ProjectState>;
}

/** Never mutated: `organization.created` starts a fresh state object with its own maps. */
export const initialOrganizationState: OrganizationState = Object.freeze({
  exists: false,
  members: Object.freeze({}) as Record<string, string>,
  groups: Object.freeze({}) as Record<string, GroupState>,
  projects: Object.freeze({}) as Record<string, ProjectState>,
}) as OrganizationState;

export const organizationStreamId = (organizationId: string): string => `organization-${organizationId}`;

/**
 * Applies one event. For speed with 100,000 members it updates the maps of the state it is given in place
 * (an immutable copy per event would make loading quadratic): the state object belongs to the load that
 * built it, from a fresh `organization.created` or a freshly read snapshot, and is never shared.
 */
export function evolveOrganization(state: OrganizationState, event: DomainEvent): OrganizationState {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'organization.created':
      return {
        exists: true,
        id: d.organizationId as string,
        name: d.name as string,
        slug: d.slug as string,
        ownerId: d.ownerId as string,
        members: {},
        groups: {},
        projects: {},
      };
    case 'organization.member-added':
      state.members[d.userId as string] = d.username as string;
      return state;
    case 'organization.member-removed': {
      const userId = d.userId as string;
      delete state.members[userId];
      for (const g of Object.values(state.groups)) if (g.memberIds.includes(userId)) g.memberIds = g.memberIds.filter((m) => m !== userId);
      return state;
    }
    case 'group.created':
      state.groups[d.groupId as string] = {
        id: d.groupId as string,
        name: d.name as string,
        description: d.description as string,
        memberIds: [...(d.memberIds as string[])],
      };
      return state;
    case 'group.details-changed': {
      const g = state.groups[d.groupId as string];
      if (g) Object.assign(g, { name: d.name, description: d.description });
      return state;
    }
    case 'group.member-added': {
      const g = state.groups[d.groupId as string];
      if (g && !g.memberIds.includes(d.userId as string)) g.memberIds.push(d.userId as string);
      return state;
    }
    case 'group.member-removed': {
      const g = state.groups[d.groupId as string];
      if (g) g.memberIds = g.memberIds.filter((m) => m !== d.userId);
      return state;
    }
    case 'group.deleted':
      delete state.groups[d.groupId as string];
      return state;
    case 'project.created':
      state.projects[d.projectId as string] = { id: d.projectId as string, name: d.name as string, ownerId: d.ownerId as string };
      return state;
    case 'project.owner-changed': {
      const p = state.projects[d.projectId as string];
      if (p) p.ownerId = d.ownerId as string;
      return state;
    }
    case 'project.deleted':
      delete state.projects[d.projectId as string];
      return state;
    default:
      return state;
  }
}
