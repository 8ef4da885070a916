import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Description, EntityName } from '../fields';
import { M } from '../message-schema';
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
  /**
   * OrgAccessRequest → OrgAccessReply: one organization's access state as the view holds it at a sequence at least
   * `atLeast`; the gateway loads an organization into its own access index with it and keeps it by the events
   */
  orgAccess: () => qrySubject('authorization', 'org-access'),
};

const orgId = M.uuid('organizationId must be a UUID');
const SCOPE_MESSAGE = 'scope must be organization or project';
const scope = () => M.oneOf(SCOPE_MESSAGE, 'organization', 'project');
const limit = M.int('limit must be an integer from 1 to 500', { minimum: 1, maximum: 500 });
/** opaque, checked by the query that made it */
const cursor = M.str('cursor is not valid', { maxLength: 200 });

export const RolesRequest = M.obj({ organizationId: orgId });
export type RolesRequest = Static<typeof RolesRequest>;

export interface RolesReply {
  /** custom roles only (built-in ones are the same in every organization, `BUILT_IN_ROLES`) */
  roles: RoleView[];
}

/** Ids that are not UUIDs are nobody's: the answer is `member: false`, not a refusal. */
export const CheckPermissionsRequest = M.obj(
  {
    organizationId: M.str('organizationId must be a string', { lowercase: true }),
    userId: M.str('userId must be a string', { lowercase: true }),
    /** when set, project permissions are evaluated in this project (404 semantics: member=false if it is not in the organization) */
    projectId: Type.Union([M.str('projectId must be a string', { lowercase: true }), Type.Null()]),
    permissions: M.list(Type.String(), 'permissions must be a list of names'),
    /**
     * the events stream's sequence the answer must reflect at least (the gateway's read index, taken when the
     * request arrived); without it authorization looks the stream's last sequence up itself
     */
    atLeast: M.int('atLeast must be a stream sequence', { minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  },
  ['organizationId', 'userId', 'permissions'],
);
export type CheckPermissionsRequest = Static<typeof CheckPermissionsRequest>;

export const OrgAccessRequest = M.obj(
  {
    organizationId: orgId,
    atLeast: M.int('atLeast must be a stream sequence', { minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  },
  ['organizationId', 'atLeast'],
);
export type OrgAccessRequest = Static<typeof OrgAccessRequest>;

/** `S`: the state's snapshot type (`OrgAccessSnapshot` of libs/access-model, which this library does not know) */
export interface OrgAccessReply<S = unknown> {
  /** the events stream's sequence the state reflects (≥ the request's `atLeast`) */
  sequence: number;
  /** null: no event of the organization up to `sequence`, or `tooLarge` */
  snapshot: S | null;
  /**
   * the state does not fit in one NATS message (the server's max_payload: 1 MiB by default, about 6,000 members):
   * the gateway asks `check` for this organization instead of keeping it
   */
  tooLarge?: true;
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

const roleId = M.uuid('roleId must be a UUID');
const permissionNames = M.list(Type.String({ maxLength: 100 }), 'permissions must be a list of permission names', { maxItems: 200 });

/** `description` defaults to empty. */
export const CreateRoleRequest = M.obj(
  { organizationId: orgId, scope: scope(), name: M.text(EntityName), description: M.text(Description), permissions: permissionNames },
  ['organizationId', 'scope', 'name', 'permissions'],
);
export type CreateRoleRequest = Static<typeof CreateRoleRequest>;

export const ChangeRoleRequest = M.obj(
  {
    organizationId: orgId,
    roleId,
    name: M.text(EntityName),
    description: M.text(Description),
    /** replaces the role's permissions */
    permissions: permissionNames,
  },
  ['organizationId', 'roleId'],
);
export type ChangeRoleRequest = Static<typeof ChangeRoleRequest>;

export const DeleteRoleRequest = M.obj({ organizationId: orgId, roleId });
export type DeleteRoleRequest = Static<typeof DeleteRoleRequest>;

export const ListRolesRequest = M.obj({ organizationId: orgId, scope: scope(), limit, cursor }, ['organizationId']);
export type ListRolesRequest = Static<typeof ListRolesRequest>;

export const GetRoleRequest = M.obj({ organizationId: orgId, roleId });
export type GetRoleRequest = Static<typeof GetRoleRequest>;

export const EffectivePermissionsRequest = M.obj(
  { organizationId: orgId, userId: M.uuid('userId must be a UUID'), projectId: M.nullableUuid('projectId must be a UUID') },
  ['organizationId', 'userId'],
);
export type EffectivePermissionsRequest = Static<typeof EffectivePermissionsRequest>;

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

export const ProjectMembersRequest = M.obj({ organizationId: orgId, projectId: M.uuid('projectId must be a UUID'), limit, cursor }, [
  'organizationId',
  'projectId',
]);
export type ProjectMembersRequest = Static<typeof ProjectMembersRequest>;

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

/** The body of every message authorization takes, by the key of its subject (checked at the edge, libs/messaging). */
export const AuthorizationRequests = {
  health: M.none(),
  check: CheckPermissionsRequest,
  roles: RolesRequest,
  orgAccess: OrgAccessRequest,
} satisfies Record<keyof typeof AuthorizationSubjects, TSchema>;

export const AccessRequests = {
  createRole: CreateRoleRequest,
  changeRole: ChangeRoleRequest,
  deleteRole: DeleteRoleRequest,
  listRoles: ListRolesRequest,
  getRole: GetRoleRequest,
  effectivePermissions: EffectivePermissionsRequest,
  projectMembers: ProjectMembersRequest,
} satisfies Record<keyof typeof AccessSubjects, TSchema>;
