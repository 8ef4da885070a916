import { BUILT_IN_ROLES, builtInRoleId, type CatalogueEvent, type PermissionSource, type RoleScope } from '@app/contracts';
import { hasBit, normalizePermissions, permissionIndex, scopeOfIndex, toBits, type PermissionBits } from './permission-set';

/** A custom role as authorization defines it (`qry.authorization.roles`, role.created/changed events). */
export interface RoleDefinition {
  id: string;
  name: string;
  description: string;
  scope: RoleScope;
  permissions: string[];
}

export interface RoleEntry extends RoleDefinition {
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
  /** a service account of the organization (`organization.member-added` via `service-account`), not a person */
  serviceAccount?: boolean;
}

export interface GroupEntry {
  id: string;
  name: string;
  description: string;
  orgRole: string | null;
  members: Set<string>;
  projectRoles: Map<string, string>;
}

export interface ProjectEntry {
  id: string;
  name: string;
  ownerId: string;
}

/** Every binding of one user or group (`organization.bindings-imported` restates them). */
export interface SubjectBindings {
  subjectType: 'user' | 'group';
  subjectId: string;
  /** its organization role */
  roleId: string | null;
  projectRoles: Array<{ projectId: string; roleId: string }>;
}

/** One role a user holds, and how. */
export interface HeldRole {
  role: RoleEntry;
  via: 'direct' | 'group';
  group?: GroupEntry;
  /** `organization`: an organization role, or (for project permissions) the project role it gives everywhere */
  scope: RoleScope;
}

/**
 * One organization's state as plain JSON (authorization's view snapshots, membership's organization snapshots).
 * Built-in roles are not in it: the constructor makes them. Maps and sets are arrays in their iteration order,
 * so a restored state iterates (and lists) in the same order as the one it was taken from.
 */
export interface OrgAccessSnapshot {
  id: string;
  name: string;
  slug: string;
  creatorId: string;
  imported: boolean;
  accessVersion: number;
  /** last version of the stream `organization-<id>` applied (absent in snapshots taken before it was kept) */
  streamVersion?: number;
  /** custom roles, in the state's order */
  roles: RoleDefinition[];
  users: Array<{ id: string; username: string; orgRole: string | null; groups: string[]; projectRoles: Array<[string, string]>; serviceAccount?: boolean }>;
  groups: Array<{ id: string; name: string; description: string; orgRole: string | null; members: string[]; projectRoles: Array<[string, string]> }>;
  projects: ProjectEntry[];
}

function roleEntry(r: RoleDefinition): RoleEntry {
  const permissions = normalizePermissions(r.permissions);
  return { id: r.id, name: r.name, description: r.description, scope: r.scope, permissions, bits: toBits(permissions), builtIn: false };
}

/**
 * Who may do what in one organization: its people, groups and projects, every binding (organization and project
 * roles of users and groups) and every role as a bitset. The ONE fold of the events that decide it
 * (`apply`): membership's organization stream (the decider's state) and, for authorization's view, the whole
 * events stream (which adds the custom roles of `access-<org>` and the legacy bindings published there).
 *
 * A check looks at the user's direct roles and those of their groups only: O(roles of the user), whatever the
 * size of the organization. `apply` updates the maps in place (a copy per event would make a 100,000-event
 * replay quadratic): a state belongs to one owner (a load, a cache entry under its lock, the view).
 */
export class OrgAccess {
  /** an event of the organization was seen (organization.created first) */
  exists = false;
  name = '';
  slug = '';
  /** who created the organization */
  creatorId = '';
  /** `organization.bindings-imported` seen: from then on it is the truth, and legacy binding events are ignored */
  imported = false;
  roles = new Map<string, RoleEntry>();
  readonly users = new Map<string, UserEntry>();
  readonly groups = new Map<string, GroupEntry>();
  readonly projects = new Map<string, ProjectEntry>();
  /** last version of the stream `access-<organizationId>` applied */
  accessVersion = 0;
  /** last version of membership's stream `organization-<organizationId>` applied (what a consistency token names) */
  streamVersion = 0;

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

  /**
   * This state with the organization's custom roles as authorization defines them now (membership's decider:
   * its stream holds no role definitions). Shares the people, groups and projects, which deciding only reads.
   */
  withCustomRoles(custom: readonly RoleDefinition[]): OrgAccess {
    const copy = Object.assign(Object.create(OrgAccess.prototype) as OrgAccess, this);
    copy.roles = new Map([...this.roles].filter(([, r]) => r.builtIn));
    for (const r of custom) copy.roles.set(r.id, roleEntry(r));
    return copy;
  }

  // ------------------------------------------------------------------------------------------------ snapshot

  toSnapshot(): OrgAccessSnapshot {
    const roles: RoleDefinition[] = [];
    for (const r of this.roles.values())
      if (!r.builtIn) roles.push({ id: r.id, name: r.name, description: r.description, scope: r.scope, permissions: [...r.permissions] });
    return {
      id: this.id,
      name: this.name,
      slug: this.slug,
      creatorId: this.creatorId,
      imported: this.imported,
      accessVersion: this.accessVersion,
      streamVersion: this.streamVersion,
      roles,
      users: Array.from(this.users.values(), (u) => ({
        id: u.id,
        username: u.username,
        orgRole: u.orgRole,
        groups: [...u.groups],
        projectRoles: [...u.projectRoles],
        ...(u.serviceAccount ? { serviceAccount: true } : {}),
      })),
      groups: Array.from(this.groups.values(), (g) => ({
        id: g.id,
        name: g.name,
        description: g.description,
        orgRole: g.orgRole,
        members: [...g.members],
        projectRoles: [...g.projectRoles],
      })),
      projects: Array.from(this.projects.values(), (p) => ({ id: p.id, name: p.name, ownerId: p.ownerId })),
    };
  }

  /** The state a snapshot was taken from (an organization that had seen at least one event). */
  static fromSnapshot(s: OrgAccessSnapshot): OrgAccess {
    const org = new OrgAccess(s.id);
    Object.assign(org, {
      exists: true,
      name: s.name,
      slug: s.slug,
      creatorId: s.creatorId,
      imported: s.imported,
      accessVersion: s.accessVersion,
      streamVersion: s.streamVersion ?? 0,
    });
    for (const r of s.roles) org.roles.set(r.id, roleEntry(r));
    for (const u of s.users)
      org.users.set(u.id, {
        id: u.id,
        username: u.username,
        orgRole: u.orgRole,
        groups: new Set(u.groups),
        projectRoles: new Map(u.projectRoles),
        ...(u.serviceAccount ? { serviceAccount: true } : {}),
      });
    for (const g of s.groups)
      org.groups.set(g.id, {
        id: g.id,
        name: g.name,
        description: g.description,
        orgRole: g.orgRole,
        members: new Set(g.members),
        projectRoles: new Map(g.projectRoles),
      });
    for (const p of s.projects) org.projects.set(p.id, { id: p.id, name: p.name, ownerId: p.ownerId });
    return org;
  }

  // ------------------------------------------------------------------------------------------------ evolve

  /**
   * Applies one event of the organization (by type: membership's, authorization's, and their legacy ones). The
   * event is typed by the catalogue (checked at the edge it came in by: the event store, the consumer), so a
   * switch on its type narrows its data; every other event only marks the organization as seen.
   */
  apply(event: CatalogueEvent): void {
    this.exists = true;
    switch (event.type) {
      case 'organization.created': {
        const d = event.data;
        this.name = d.name;
        this.slug = d.slug;
        this.creatorId = d.ownerId;
        break;
      }
      case 'organization.member-added': {
        const d = event.data;
        const existing = this.users.get(d.userId);
        if (existing) {
          existing.orgRole = d.roleId;
          existing.username = d.username;
        } else
          this.users.set(d.userId, {
            id: d.userId,
            username: d.username,
            orgRole: d.roleId,
            groups: new Set(),
            projectRoles: new Map(),
            ...(d.via === 'service-account' ? { serviceAccount: true } : {}),
          });
        break;
      }
      case 'organization.member-removed': {
        const user = this.users.get(event.data.userId);
        if (!user) break;
        for (const g of user.groups) this.groups.get(g)?.members.delete(user.id);
        this.users.delete(user.id);
        break;
      }
      case 'group.created': {
        const d = event.data;
        this.groups.set(d.groupId, {
          id: d.groupId,
          name: d.name,
          description: d.description,
          orgRole: d.roleId,
          members: new Set(),
          projectRoles: new Map(),
        });
        for (const userId of d.memberIds) this.joinGroup(userId, d.groupId);
        break;
      }
      case 'group.details-changed': {
        const d = event.data;
        const group = this.groups.get(d.groupId);
        if (group) Object.assign(group, { name: d.name, description: d.description });
        break;
      }
      case 'group.member-added':
        this.joinGroup(event.data.userId, event.data.groupId);
        break;
      case 'group.member-removed': {
        const d = event.data;
        this.users.get(d.userId)?.groups.delete(d.groupId);
        this.groups.get(d.groupId)?.members.delete(d.userId);
        break;
      }
      case 'group.deleted': {
        const group = this.groups.get(event.data.groupId);
        if (!group) break;
        for (const userId of group.members) this.users.get(userId)?.groups.delete(group.id);
        this.groups.delete(group.id);
        break;
      }
      case 'project.created': {
        const d = event.data;
        this.projects.set(d.projectId, { id: d.projectId, name: d.name, ownerId: d.ownerId });
        this.users.get(d.ownerId)?.projectRoles.set(d.projectId, builtInRoleId(this.id, 'project-admin'));
        break;
      }
      case 'project.owner-changed': {
        const project = this.projects.get(event.data.projectId);
        if (project) project.ownerId = event.data.ownerId;
        break;
      }
      case 'project.deleted': {
        const id = event.data.projectId;
        if (!this.projects.delete(id)) break;
        for (const u of this.users.values()) u.projectRoles.delete(id);
        for (const g of this.groups.values()) g.projectRoles.delete(id);
        break;
      }
      case 'role.created':
      case 'role.changed': {
        const d = event.data;
        this.roles.set(d.roleId, roleEntry({ id: d.roleId, name: d.name, description: d.description, scope: d.scope, permissions: d.permissions }));
        break;
      }
      case 'role.deleted':
        this.roles.delete(event.data.roleId);
        break;
      case 'role.assigned': {
        // a legacy binding (authorization's stream) published after the import does not count: the import is the truth
        if (event.service === 'authorization' && this.imported) break;
        const d = event.data;
        this.bind(d.subjectType, d.subjectId, d.projectId, d.roleId);
        break;
      }
      case 'role.unassigned': {
        if (event.service === 'authorization' && this.imported) break;
        const d = event.data;
        if (d.projectId !== null) this.subject(d.subjectType, d.subjectId)?.projectRoles.delete(d.projectId);
        break;
      }
      case 'organization.bindings-imported':
        this.imported = true;
        for (const b of event.data.subjects) {
          const subject = this.subject(b.subjectType, b.subjectId);
          if (!subject) continue;
          subject.orgRole = b.roleId;
          subject.projectRoles.clear();
          for (const p of b.projectRoles) if (this.projects.has(p.projectId)) subject.projectRoles.set(p.projectId, p.roleId);
        }
        break;
    }
    if (event.service === 'authorization' && event.streamId === `access-${this.id}`) this.accessVersion = Math.max(this.accessVersion, event.streamVersion);
    if (event.service === 'membership' && event.streamId === `organization-${this.id}`) this.streamVersion = Math.max(this.streamVersion, event.streamVersion);
  }

  /** The subject's role at organization scope (`projectId` null) or on a project: replaces the one it held there. */
  private bind(subjectType: string, subjectId: string, projectId: string | null, roleId: string): void {
    const subject = this.subject(subjectType, subjectId);
    if (!subject) return;
    if (projectId === null) subject.orgRole = roleId;
    else if (this.projects.has(projectId)) subject.projectRoles.set(projectId, roleId);
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

  /** Every binding of every user and group, in the state's order. */
  bindings(): SubjectBindings[] {
    const of = (subjectType: 'user' | 'group', s: UserEntry | GroupEntry): SubjectBindings => ({
      subjectType,
      subjectId: s.id,
      roleId: s.orgRole,
      projectRoles: Array.from(s.projectRoles, ([projectId, roleId]) => ({ projectId, roleId })),
    });
    return [...Array.from(this.users.values(), (u) => of('user', u)), ...Array.from(this.groups.values(), (g) => of('group', g))];
  }

  // ------------------------------------------------------------------------------------------------ checks

  /**
   * The organization role a user or group holds: the one bound, or Member when the bound role no longer exists
   * (a binding that raced the deletion of its custom role; docs/architecture.md, "Concurrency").
   */
  orgRoleOf(s: { orgRole: string | null }): RoleEntry | undefined {
    return s.orgRole === null ? undefined : (this.roles.get(s.orgRole) ?? this.roles.get(this.memberRoleId));
  }

  /** Whether the user holds permission number `i` of the catalogue (in `projectId` for project permissions). */
  has(userId: string, i: number, projectId?: string | null): boolean {
    const user = this.users.get(userId);
    if (!user || i < 0) return false;
    if (scopeOfIndex(i) === 'organization') {
      if (hasBit(this.orgRoleOf(user)?.bits, i)) return true;
      for (const g of user.groups) {
        const group = this.groups.get(g);
        if (group && hasBit(this.orgRoleOf(group)?.bits, i)) return true;
      }
      return false;
    }
    if (!projectId || !this.projects.has(projectId)) return false;
    if (this.grantsInProject(user, projectId, i)) return true;
    for (const g of user.groups) {
      const group = this.groups.get(g);
      if (group && this.grantsInProject(group, projectId, i)) return true;
    }
    return false;
  }

  private grantsInProject(s: UserEntry | GroupEntry, projectId: string, i: number): boolean {
    const projectRole = s.projectRoles.get(projectId);
    if (projectRole !== undefined && hasBit(this.roles.get(projectRole)?.bits, i)) return true;
    const everywhere = this.orgRoleOf(s)?.projectRoleEverywhere;
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
    const add = (role: RoleEntry | undefined, via: 'direct' | 'group', scope: RoleScope, group?: GroupEntry) => {
      if (role) held.push({ role, via, scope, ...(group ? { group } : {}) });
    };
    const subjects: Array<[UserEntry | GroupEntry, 'direct' | 'group']> = [[user, 'direct']];
    for (const g of user.groups) {
      const group = this.groups.get(g);
      if (group) subjects.push([group, 'group']);
    }
    for (const [s, via] of subjects) {
      const group = via === 'group' ? (s as GroupEntry) : undefined;
      const orgRole = this.orgRoleOf(s);
      add(orgRole, via, 'organization', group);
      if (projectId && this.projects.has(projectId)) {
        add(this.roles.get(s.projectRoles.get(projectId) ?? ''), via, 'project', group);
        add(orgRole?.projectRoleEverywhere ? this.roles.get(orgRole.projectRoleEverywhere) : undefined, via, 'organization', group);
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

  /** Users holding the Owner role directly (the last of them keeps it). */
  directOwners(): string[] {
    return [...this.users.values()].filter((u) => u.orgRole === this.ownerRoleId).map((u) => u.id);
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
