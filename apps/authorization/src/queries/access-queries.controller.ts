import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccessSubjects,
  AuthorizationSubjects,
  BUILT_IN_ROLES,
  DomainError,
  ErrorCode,
  builtInRoleId,
  permissionScope,
  type CheckPermissionsReply,
  type CheckPermissionsRequest,
  type EffectivePermissionsReply,
  type EffectivePermissionsRequest,
  type GetRoleRequest,
  type ListRolesRequest,
  type Message,
  type ProjectMemberView,
  type ProjectMembersPage,
  type ProjectMembersRequest,
  type RolePage,
  type RolesReply,
  type RolesRequest,
  type RoleView,
} from '@app/contracts';
import type { GroupEntry, UserEntry } from '@app/access-model';
import { AccessRoles } from '../access/access-roles';
import { ACCESS_VIEW } from '../access/access.tokens';
import type { AccessView } from '../model/access-view';
import { caughtUpOrg, isUuid, paginate, toRoleView } from './views';

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/** Bodies arrive checked against their schemas (AuthorizationRequests, AccessRequests: ids lower-cased). Checks and reads, answered from the in-memory view after it caught up with the events stream (the custom roles for membership's decisions: from the event store). */
@Controller()
export class AccessQueriesController {
  constructor(
    @Inject(ACCESS_VIEW) private readonly view: AccessView,
    @Inject(AccessRoles) private readonly accessRoles: AccessRoles,
  ) {}

  @MessagePattern(AuthorizationSubjects.check())
  async check(@Payload() msg: Message<CheckPermissionsRequest>): Promise<CheckPermissionsReply> {
    const b = msg.body;
    // the gateway names the sequence it read when the request arrived (one hop); others get a stream look-up
    await (b.atLeast === undefined ? this.view.catchUp() : this.view.waitForSequence(b.atLeast));
    const org = isUuid(b.organizationId) ? this.view.find(b.organizationId) : undefined;
    if (!org) return { member: false, allowed: Object.fromEntries(b.permissions.map((p) => [p, false])) };
    return org.check(b.userId, b.projectId ?? null, b.permissions);
  }

  /** The custom roles of the organization as the access stream in the event store has them (membership decides grants with them). */
  @MessagePattern(AuthorizationSubjects.roles())
  async roles(@Payload() msg: Message<RolesRequest>): Promise<RolesReply> {
    const roles = await this.accessRoles.of(msg.body.organizationId);
    return { roles: roles.map((r) => ({ ...r, builtIn: false })) };
  }

  @MessagePattern(AccessSubjects.listRoles())
  async listRoles(@Payload() msg: Message<ListRolesRequest>): Promise<RolePage> {
    const b = msg.body;
    const org = await caughtUpOrg(this.view, b.organizationId);
    const builtIn = BUILT_IN_ROLES.map((d) => org.roles.get(builtInRoleId(org.id, d.key))!);
    const custom = [...org.roles.values()].filter((r) => !r.builtIn).sort(byName);
    const roles = [...builtIn, ...custom].filter((r) => !b.scope || r.scope === b.scope).map(toRoleView);
    return paginate(roles, b.limit, b.cursor);
  }

  @MessagePattern(AccessSubjects.getRole())
  async getRole(@Payload() msg: Message<GetRoleRequest>): Promise<RoleView> {
    const b = msg.body;
    const role = (await caughtUpOrg(this.view, b.organizationId)).roles.get(b.roleId);
    if (!role) throw new DomainError(ErrorCode.NOT_FOUND, 'role not found');
    return toRoleView(role);
  }

  /** Effective permissions of a member, each with where it came from; NOT_FOUND for a non-member or a project of another organization. */
  @MessagePattern(AccessSubjects.effectivePermissions())
  async effectivePermissions(@Payload() msg: Message<EffectivePermissionsRequest>): Promise<EffectivePermissionsReply> {
    const b = msg.body;
    const projectId = b.projectId ?? null;
    const org = await caughtUpOrg(this.view, b.organizationId);
    const userId = b.userId;
    if (!org.users.has(userId)) throw new DomainError(ErrorCode.NOT_FOUND, 'person not found');
    if (projectId !== null && !org.projects.has(projectId)) throw new DomainError(ErrorCode.NOT_FOUND, 'project not found');
    return {
      userId,
      projectId,
      permissions: org.effectivePermissions(userId, projectId).map((p) => ({ name: p.name, scope: permissionScope(p.name)!, sources: p.sources })),
    };
  }

  /** Users and groups with a role in the project: bound on it, or through an organization role that gives one everywhere. */
  @MessagePattern(AccessSubjects.projectMembers())
  async projectMembers(@Payload() msg: Message<ProjectMembersRequest>): Promise<ProjectMembersPage> {
    const b = msg.body;
    const org = await caughtUpOrg(this.view, b.organizationId);
    const projectId = b.projectId;
    if (!org.projects.has(projectId)) throw new DomainError(ErrorCode.NOT_FOUND, 'project not found');
    const itemOf = (type: 'user' | 'group', s: UserEntry | GroupEntry, name: string): ProjectMemberView | undefined => {
      const roles: ProjectMemberView['roles'] = [];
      const direct = org.roles.get(s.projectRoles.get(projectId) ?? '');
      if (direct) roles.push({ id: direct.id, name: direct.name, source: 'project' });
      const orgRole = org.orgRoleOf(s);
      const everywhere = orgRole?.projectRoleEverywhere ? org.roles.get(orgRole.projectRoleEverywhere) : undefined;
      if (orgRole && everywhere)
        roles.push({ id: everywhere.id, name: everywhere.name, source: 'organization', organizationRole: { id: orgRole.id, name: orgRole.name } });
      return roles.length ? { type, id: s.id, name, roles } : undefined;
    };
    const users = [...org.users.values()]
      .map((u) => itemOf('user', u, u.username))
      .filter((x) => x !== undefined)
      .sort(byName);
    const groups = [...org.groups.values()]
      .map((g) => itemOf('group', g, g.name))
      .filter((x) => x !== undefined)
      .sort(byName);
    return paginate([...users, ...groups], b.limit, b.cursor);
  }
}
