import { cmdSubject, qrySubject } from '../subjects';

/**
 * Messages other processes send to authorization. Authorization adds its own command subjects
 * (custom roles) next to these.
 */
export const AuthorizationSubjects = {
  health: () => qrySubject('authorization', 'health'),
  /** CheckPermissionsRequest → CheckPermissionsReply; used by the gateway's permission guard on every request */
  check: () => qrySubject('authorization', 'check'),
  /**
   * RolesRequest → RolesReply: the organization's custom roles as authorization's write side has them (its
   * `access-<organizationId>` stream, so a role created a moment ago is there); membership asks right before
   * deciding a command that binds or weighs roles
   */
  roles: () => qrySubject('authorization', 'roles'),
};

export interface RolesRequest {
  organizationId: string;
}

export interface RolesReply {
  /** custom roles only (built-in ones are the same in every organization, `BUILT_IN_ROLES`) */
  roles: RoleView[];
}

export interface CheckPermissionsRequest {
  organizationId: string;
  userId: string;
  /** when set, project permissions are evaluated in this project (404 semantics: member=false if it is not in the organization) */
  projectId?: string | null;
  permissions: string[];
  /**
   * the events stream's sequence the answer must reflect at least (the gateway's read index, taken when the
   * request arrived); without it authorization looks the stream's last sequence up itself
   */
  atLeast?: number;
}

export interface CheckPermissionsReply {
  /** false: the user is not a member of the organization (or the project is not in it) → the gateway answers 404 */
  member: boolean;
  allowed: Record<string, boolean>;
}

/* ------------------------------------------------------------------------------------------------------
 * Authorization's own messages (roles, effective permissions, project members). The actor of a
 * command is `meta.actor.id`; the gateway has already checked the route's permission.
 * ---------------------------------------------------------------------------------------------------- */

export const AccessSubjects = {
  /** CreateRoleRequest → RoleView */
  createRole: () => cmdSubject('authorization', 'access', 'create-role'),
  /** ChangeRoleRequest → RoleView */
  changeRole: () => cmdSubject('authorization', 'access', 'change-role'),
  /** DeleteRoleRequest → {} */
  deleteRole: () => cmdSubject('authorization', 'access', 'delete-role'),
  /** ListRolesRequest → RolePage */
  listRoles: () => qrySubject('authorization', 'list-roles'),
  /** GetRoleRequest → RoleView */
  getRole: () => qrySubject('authorization', 'get-role'),
  /** EffectivePermissionsRequest → EffectivePermissionsReply */
  effectivePermissions: () => qrySubject('authorization', 'effective-permissions'),
  /** ProjectMembersRequest → ProjectMembersPage */
  projectMembers: () => qrySubject('authorization', 'project-members'),
};

export type RoleScope = 'organization' | 'project';

export interface RoleView {
  id: string;
  name: string;
  description: string;
  scope: RoleScope;
  permissions: string[];
  builtIn: boolean;
}

export interface RolePage {
  items: RoleView[];
  nextCursor: string | null;
}

export interface CreateRoleRequest {
  organizationId: string;
  name: string;
  description: string;
  scope: RoleScope;
  permissions: string[];
}

export interface ChangeRoleRequest {
  organizationId: string;
  roleId: string;
  name?: string;
  description?: string;
  /** replaces the role's permissions */
  permissions?: string[];
}

export interface DeleteRoleRequest {
  organizationId: string;
  roleId: string;
}

export interface ListRolesRequest {
  organizationId: string;
  scope?: RoleScope;
  limit?: number;
  cursor?: string;
}

export interface GetRoleRequest {
  organizationId: string;
  roleId: string;
}

export interface EffectivePermissionsRequest {
  organizationId: string;
  userId: string;
  projectId?: string | null;
}

/** Where a permission comes from: a role bound to the user (`direct`) or to one of their groups, at organization or project scope. */
export interface PermissionSource {
  roleId: string;
  roleName: string;
  via: 'direct' | 'group';
  groupId?: string;
  groupName?: string;
  /** `organization`: an organization role (for project permissions: the project role it gives in every project) */
  scope: RoleScope;
}

export interface EffectivePermission {
  name: string;
  scope: RoleScope;
  sources: PermissionSource[];
}

export interface EffectivePermissionsReply {
  userId: string;
  projectId: string | null;
  permissions: EffectivePermission[];
}

export interface ProjectMembersRequest {
  organizationId: string;
  projectId: string;
  limit?: number;
  cursor?: string;
}

export interface ProjectMemberView {
  type: 'user' | 'group';
  id: string;
  /** username of a user, name of a group */
  name: string;
  /** `project`: bound on the project; `organization`: the project role their organization role gives in every project */
  roles: Array<{ id: string; name: string; source: 'project' | 'organization'; organizationRole?: { id: string; name: string } }>;
}

export interface ProjectMembersPage {
  items: ProjectMemberView[];
  nextCursor: string | null;
}
