import { BUILT_IN_ROLES, builtInRoleId, type DomainEvent, type PermissionSource, type RoleScope } from '@app/contracts';
import { hasBit, normalizePermissions, permissionIndex, scopeOfIndex, toBits, type PermissionBits } from './permission-set';

export interface RoleEntry {
  id: string;
  name: string;
  description: string;
  scope: RoleScope;
  /** catalogue order */
  permissions: string[];
  bits: PermissionBits;
  builtIn: boolean;
  /** an organization role that gives this project role in every project (Owner, Admin → project Admin) */
  projectRoleEverywhere?: string;
}

export interface UserEntry {
  id: string;
  username: string;
  /** the organization role bound to the user directly (null: none) */
  orgRole: string | null;
  groups: Set<string>;
  /** projectId → role bound to the user directly on that project */
  projectRoles: Map<string, string>;
}

export interface GroupEntry {
  id: string;
  name: string;
  orgRole: string | null;
  members: Set<string>;
  projectRoles: Map<string, string>;
}

export interface ProjectEntry {
  id: string;
  name: string;
  ownerId: string;
}

/** One role a user holds, and how. */
export interface HeldRole {
  role: RoleEntry;
  via: 'direct' | 'group';
  group?: GroupEntry;
  /** `organization`: an organization role, or (for project permissions) the project role it gives everywhere */
  scope: RoleScope;
}

type Data = Record<string, unknown>;

/**
 * One organization's index as plain JSON (part of a view snapshot, `view-snapshot.ts`). Built-in roles are not in
 * it: the constructor makes them. Maps and sets are arrays in their iteration order, so a restored index
 * iterates (and lists) in the same order as the one it was taken from.
 */
export interface OrgIndexSnapshot {
  id: string;
  accessVersion: number;
  /** custom roles, in the index's order */
  roles: Array<{ id: string; name: string; description: string; scope: RoleScope; permissions: string[] }>;
  users: Array<{ id: string; username: string; orgRole: string | null; groups: string[]; projectRoles: Array<[string, string]> }>;
  groups: Array<{ id: string; name: string; orgRole: string | null; members: string[]; projectRoles: Array<[string, string]> }>;
  projects: ProjectEntry[];
}

/**
 * The authorization view of one organization, kept in memory: who is a member, their direct organization
 * role, their groups, each group's role, project bindings of users and groups, and every role as a bitset.
 * A check looks at the user's direct roles and those of their groups only: O(roles of the user), whatever the
 * size of the organization. `apply` is the evolve function of the view (membership and authorization events).
 */
export class OrgIndex {
  /** organization.created seen (or any event of it) */
  exists = false;
  readonly roles = new Map<string, RoleEntry>();
  readonly users = new Map<string, UserEntry>();
  readonly groups = new Map<string, GroupEntry>();
  readonly projects = new Map<string, ProjectEntry>();
  /** last version of the stream `access-<organizationId>` applied */
  accessVersion = 0;

  constructor(readonly id: string) {
    for (const def of BUILT_IN_ROLES) {
      const permissions = normalizePermissions(def.permissions);
      this.roles.set(builtInRoleId(id, def.key), {
        id: builtInRoleId(id, def.key),
        name: def.name,
        description: def.description,
        scope: def.scope,
        permissions,
        bits: toBits(permissions),
        builtIn: true,
        projectRoleEverywhere: def.projectRoleEverywhere ? builtInRoleId(id, def.projectRoleEverywhere) : undefined,
      });
    }
  }

  get ownerRoleId(): string {
    return builtInRoleId(this.id, 'owner');
  }

  get memberRoleId(): string {
    return builtInRoleId(this.id, 'member');
  }

  // ------------------------------------------------------------------------------------------------ snapshot

  toSnapshot(): OrgIndexSnapshot {
    const roles: OrgIndexSnapshot['roles'] = [];
    for (const r of this.roles.values())
      if (!r.builtIn) roles.push({ id: r.id, name: r.name, description: r.description, scope: r.scope, permissions: [...r.permissions] });
    return {
      id: this.id,
      accessVersion: this.accessVersion,
      roles,
      users: Array.from(this.users.values(), (u) => ({ id: u.id, username: u.username, orgRole: u.orgRole, groups: [...u.groups], projectRoles: [...u.projectRoles] })),
      groups: Array.from(this.groups.values(), (g) => ({ id: g.id, name: g.name, orgRole: g.orgRole, members: [...g.members], projectRoles: [...g.projectRoles] })),
      projects: Array.from(this.projects.values(), (p) => ({ id: p.id, name: p.name, ownerId: p.ownerId })),
    };
  }

  /** The index a snapshot was taken from (an organization that had seen at least one event). */
  static fromSnapshot(s: OrgIndexSnapshot): OrgIndex {
    const org = new OrgIndex(s.id);
    org.exists = true;
    org.accessVersion = s.accessVersion;
    for (const r of s.roles) {
      const permissions = normalizePermissions(r.permissions);
      org.roles.set(r.id, { id: r.id, name: r.name, description: r.description, scope: r.scope, permissions, bits: toBits(permissions), builtIn: false });
    }
    for (const u of s.users) org.users.set(u.id, { id: u.id, username: u.username, orgRole: u.orgRole, groups: new Set(u.groups), projectRoles: new Map(u.projectRoles) });
    for (const g of s.groups) org.groups.set(g.id, { id: g.id, name: g.name, orgRole: g.orgRole, members: new Set(g.members), projectRoles: new Map(g.projectRoles) });
    for (const p of s.projects) org.projects.set(p.id, { id: p.id, name: p.name, ownerId: p.ownerId });
    return org;
  }

  // ------------------------------------------------------------------------------------------------ evolve

  apply(event: DomainEvent): void {
    const d = event.data as Data;
    this.exists = true;
    switch (`${event.service}/${event.type}`) {
      case 'membership/organization.member-added': {
        const id = d.userId as string;
        const existing = this.users.get(id);
        if (existing) {
          existing.orgRole = d.roleId as string;
          existing.username = d.username as string;
        } else
          this.users.set(id, { id, username: d.username as string, orgRole: d.roleId as string, groups: new Set(), projectRoles: new Map() });
        break;
      }
      case 'membership/organization.member-removed': {
        const user = this.users.get(d.userId as string);
        if (!user) break;
        for (const g of user.groups) this.groups.get(g)?.members.delete(user.id);
        this.users.delete(user.id);
        break;
      }
      case 'membership/group.created': {
        const id = d.groupId as string;
        const group: GroupEntry = { id, name: d.name as string, orgRole: d.roleId as string, members: new Set(), projectRoles: new Map() };
        this.groups.set(id, group);
        for (const userId of d.memberIds as string[]) this.joinGroup(userId, id);
        break;
      }
      case 'membership/group.details-changed': {
        const group = this.groups.get(d.groupId as string);
        if (group) group.name = d.name as string;
        break;
      }
      case 'membership/group.member-added':
        this.joinGroup(d.userId as string, d.groupId as string);
        break;
      case 'membership/group.member-removed':
        this.users.get(d.userId as string)?.groups.delete(d.groupId as string);
        this.groups.get(d.groupId as string)?.members.delete(d.userId as string);
        break;
      case 'membership/group.deleted': {
        const group = this.groups.get(d.groupId as string);
        if (!group) break;
        for (const userId of group.members) this.users.get(userId)?.groups.delete(group.id);
        this.groups.delete(group.id);
        break;
      }
      case 'membership/project.created': {
        const id = d.projectId as string;
        this.projects.set(id, { id, name: d.name as string, ownerId: d.ownerId as string });
        this.users.get(d.ownerId as string)?.projectRoles.set(id, builtInRoleId(this.id, 'project-admin'));
        break;
      }
      case 'membership/project.owner-changed': {
        const project = this.projects.get(d.projectId as string);
        if (project) project.ownerId = d.ownerId as string;
        break;
      }
      case 'membership/project.deleted': {
        const id = d.projectId as string;
        if (!this.projects.delete(id)) break;
        for (const u of this.users.values()) u.projectRoles.delete(id);
        for (const g of this.groups.values()) g.projectRoles.delete(id);
        break;
      }
      case 'authorization/role.created':
      case 'authorization/role.changed': {
        const permissions = normalizePermissions(d.permissions as string[]);
        this.roles.set(d.roleId as string, {
          id: d.roleId as string,
          name: d.name as string,
          description: d.description as string,
          scope: d.scope as RoleScope,
          permissions,
          bits: toBits(permissions),
          builtIn: false,
        });
        break;
      }
      case 'authorization/role.deleted':
        this.roles.delete(d.roleId as string);
        break;
      case 'authorization/role.assigned': {
        const subject = this.subject(d.subjectType as string, d.subjectId as string);
        const projectId = d.projectId as string | null;
        if (!subject) break;
        if (projectId === null) subject.orgRole = d.roleId as string;
        else if (this.projects.has(projectId)) subject.projectRoles.set(projectId, d.roleId as string);
        break;
      }
      case 'authorization/role.unassigned':
        this.subject(d.subjectType as string, d.subjectId as string)?.projectRoles.delete(d.projectId as string);
        break;
    }
    if (event.service === 'authorization' && event.streamId === `access-${this.id}`)
      this.accessVersion = Math.max(this.accessVersion, event.streamVersion);
  }

  private joinGroup(userId: string, groupId: string): void {
    const user = this.users.get(userId);
    const group = this.groups.get(groupId);
    if (!user || !group) return;
    user.groups.add(groupId);
    group.members.add(userId);
  }

  subject(type: string, id: string): UserEntry | GroupEntry | undefined {
    return type === 'user' ? this.users.get(id) : type === 'group' ? this.groups.get(id) : undefined;
  }

  // ------------------------------------------------------------------------------------------------ checks

  /** Whether the user holds permission number `i` of the catalogue (in `projectId` for project permissions). */
  has(userId: string, i: number, projectId?: string | null): boolean {
    const user = this.users.get(userId);
    if (!user || i < 0) return false;
    if (scopeOfIndex(i) === 'organization') {
      if (hasBit(this.roles.get(user.orgRole!)?.bits, i)) return true;
      for (const g of user.groups) if (hasBit(this.roles.get(this.groups.get(g)?.orgRole as string)?.bits, i)) return true;
      return false;
    }
    if (!projectId || !this.projects.has(projectId)) return false;
    if (this.grantsInProject(user.orgRole, user.projectRoles.get(projectId), i)) return true;
    for (const g of user.groups) {
      const group = this.groups.get(g);
      if (group && this.grantsInProject(group.orgRole, group.projectRoles.get(projectId), i)) return true;
    }
    return false;
  }

  private grantsInProject(orgRole: string | null, projectRole: string | undefined, i: number): boolean {
    if (projectRole !== undefined && hasBit(this.roles.get(projectRole)?.bits, i)) return true;
    const everywhere = orgRole === null ? undefined : this.roles.get(orgRole)?.projectRoleEverywhere;
    return everywhere !== undefined && hasBit(this.roles.get(everywhere)?.bits, i);
  }

  /** `member`: the user belongs to the organization (and the project, when given, to it). */
  check(userId: string, projectId: string | null | undefined, permissions: string[]): { member: boolean; allowed: Record<string, boolean> } {
    const member = this.users.has(userId) && (!projectId || this.projects.has(projectId));
    const allowed: Record<string, boolean> = {};
    for (const p of permissions) allowed[p] = member && this.has(userId, permissionIndex(p), projectId);
    return { member, allowed };
  }

  /** Every role the user holds, with where it comes from (organization roles, and in `projectId` project roles). */
  heldRoles(userId: string, projectId?: string | null): HeldRole[] {
    const user = this.users.get(userId);
    if (!user) return [];
    const held: HeldRole[] = [];
    const add = (roleId: string | null | undefined, via: 'direct' | 'group', scope: RoleScope, group?: GroupEntry) => {
      const role = roleId ? this.roles.get(roleId) : undefined;
      if (role) held.push({ role, via, scope, ...(group ? { group } : {}) });
    };
    const subjects: Array<[UserEntry | GroupEntry, 'direct' | 'group']> = [[user, 'direct']];
    for (const g of user.groups) {
      const group = this.groups.get(g);
      if (group) subjects.push([group, 'group']);
    }
    for (const [s, via] of subjects) {
      const group = via === 'group' ? (s as GroupEntry) : undefined;
      add(s.orgRole, via, 'organization', group);
      if (projectId && this.projects.has(projectId)) {
        add(s.projectRoles.get(projectId), via, 'project', group);
        const everywhere = s.orgRole ? this.roles.get(s.orgRole)?.projectRoleEverywhere : undefined;
        add(everywhere, via, 'organization', group);
      }
    }
    return held;
  }

  /** Effective permissions of a user with their sources, in catalogue order. */
  effectivePermissions(userId: string, projectId?: string | null): Array<{ name: string; sources: PermissionSource[] }> {
    const sources = new Map<string, PermissionSource[]>();
    for (const h of this.heldRoles(userId, projectId)) {
      const source: PermissionSource = {
        roleId: h.role.id,
        roleName: h.role.name,
        via: h.via,
        ...(h.group ? { groupId: h.group.id, groupName: h.group.name } : {}),
        scope: h.scope,
      };
      for (const p of h.role.permissions) {
        const list = sources.get(p) ?? [];
        list.push(source);
        sources.set(p, list);
      }
    }
    return normalizePermissions(sources.keys()).map((name) => ({ name, sources: sources.get(name)! }));
  }

  /** Users holding the Owner role directly or through a group. */
  owners(): string[] {
    const owner = this.ownerRoleId;
    const ids = new Set<string>();
    for (const u of this.users.values()) if (u.orgRole === owner) ids.add(u.id);
    for (const g of this.groups.values()) if (g.orgRole === owner) for (const m of g.members) ids.add(m);
    return [...ids].sort();
  }

  /** Whether any user or group holds the role, in the organization or in any project. */
  roleInUse(roleId: string): boolean {
    for (const s of [...this.users.values(), ...this.groups.values()]) {
      if (s.orgRole === roleId) return true;
      for (const r of s.projectRoles.values()) if (r === roleId) return true;
    }
    return false;
  }
}
