import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ErrorCode } from '../errors';
import { Description, EntityName } from '../fields';
import { M } from '../message-schema';
import { cmdSubject, qrySubject } from '../subjects';

/**
 * Request/reply subjects of membership. Every request is a `Message<Body>` (meta + body); the actor of a
 * command is `meta.actor`. Errors come back as ErrorReply with the codes named here.
 */
export const MembershipSubjects = {
  health: () => qrySubject('membership', 'health'),
  /** CreateOrganizationRequest → OrganizationView (SLUG_TAKEN, VALIDATION_FAILED) */
  createOrganization: () => cmdSubject('membership', 'organization', 'create-organization'),
  /** MyOrganizationsRequest → Page<OrganizationView> */
  myOrganizations: () => qrySubject('membership', 'my-organizations'),
  /** GetOrganizationRequest → OrganizationView (NOT_FOUND) */
  getOrganization: () => qrySubject('membership', 'get-organization'),
  /** ListPeopleRequest → Page<PersonView> */
  listPeople: () => qrySubject('membership', 'list-people'),
  /** AddPeopleRequest → AddPeopleReply */
  addPeople: () => cmdSubject('membership', 'organization', 'add-people'),
  /** CreateMemberAccountsRequest → CreateAccountsReply (identity's reply; existing users joined too) */
  createAccounts: () => cmdSubject('membership', 'organization', 'create-accounts'),
  /** RemovePersonRequest → {} (NOT_FOUND, OWNS_PROJECTS with details.projects, OWNER_PROTECTED) */
  removePerson: () => cmdSubject('membership', 'organization', 'remove-person'),
  /** ResetMemberPasswordRequest → ResetPasswordReply (NOT_FOUND, NOT_MANAGED_ACCOUNT) */
  resetPassword: () => cmdSubject('membership', 'organization', 'reset-member-password'),
  /** CreateGroupRequest → GroupView (NOT_A_MEMBER, GROUP_NAME_TAKEN) */
  createGroup: () => cmdSubject('membership', 'organization', 'create-group'),
  /** UpdateGroupRequest → GroupView */
  updateGroup: () => cmdSubject('membership', 'organization', 'update-group'),
  /** DeleteGroupRequest → {} */
  deleteGroup: () => cmdSubject('membership', 'organization', 'delete-group'),
  /** ListGroupsRequest → Page<GroupView> */
  listGroups: () => qrySubject('membership', 'list-groups'),
  /** GetGroupRequest → GroupView */
  getGroup: () => qrySubject('membership', 'get-group'),
  /** CreateProjectRequest → ProjectView */
  createProject: () => cmdSubject('membership', 'organization', 'create-project'),
  /** ListProjectsRequest → Page<ProjectView> (all projects of the organization; the gateway filters by project.view) */
  listProjects: () => qrySubject('membership', 'list-projects'),
  /** GetProjectRequest → ProjectView */
  getProject: () => qrySubject('membership', 'get-project'),
  /** TransferProjectRequest → ProjectView (NOT_FOUND, NOT_A_MEMBER) */
  transferProject: () => cmdSubject('membership', 'organization', 'transfer-project'),
  /** DeleteProjectRequest → {} */
  deleteProject: () => cmdSubject('membership', 'organization', 'delete-project'),
  /**
   * AssignRoleRequest → BindingView: a user's or group's organization role, or its role in a project (NOT_FOUND,
   * NOT_A_MEMBER, ROLE_SCOPE_MISMATCH, FORBIDDEN, PRIVILEGE_ESCALATION, LAST_OWNER)
   */
  assignRole: () => cmdSubject('membership', 'organization', 'assign-role'),
  /** UnassignRoleRequest → {}: a user or group loses the role bound on a project (NOT_FOUND) */
  unassignRole: () => cmdSubject('membership', 'organization', 'unassign-role'),
  /**
   * AddServiceAccountRequest → {}: a service account (identity's) joins the organization with a role the actor
   * may grant, never Owner (PRIVILEGE_ESCALATION, FORBIDDEN)
   */
  addServiceAccount: () => cmdSubject('membership', 'organization', 'add-service-account'),
  /** ServiceAccountRolesRequest → ServiceAccountRolesReply: the organization and project roles bound to each (directly) */
  serviceAccountRoles: () => qrySubject('membership', 'service-account-roles'),
};

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface OrganizationView {
  id: string;
  name: string;
  slug: string;
}

/** Ids of what a request acts on (the path of the HTTP route): a malformed one is nothing there, NOT_FOUND. */
const target = (what = 'not found') => M.uuid(what, ErrorCode.NOT_FOUND);
const orgId = target();
const SLUG_MESSAGE = 'slug must be lowercase letters, digits and "-" (1 to 50)';
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/;
const limit = M.int('limit must be 1 to 500', { minimum: 1, maximum: 500 });
/** opaque, checked by the query that made it */
const cursor = M.str('cursor is not valid', { maxLength: 200 });
const userIds = (field: string) => M.list(M.uuid(''), `${field} must be a list of user ids`, { maxItems: 1000 });

/** `slug` defaults to one made of the name. */
export const CreateOrganizationRequest = M.obj({ name: M.text(EntityName), slug: M.str(SLUG_MESSAGE, { pattern: SLUG_PATTERN.source }) }, ['name']);
export type CreateOrganizationRequest = Static<typeof CreateOrganizationRequest>;
/** a page (`limit` as every list, default 50), or `all` of them (the gateway's slug look-up) */
export const MyOrganizationsRequest = M.obj(
  { userId: M.str('not found', { code: ErrorCode.NOT_FOUND }), limit, cursor, all: M.bool('all must be a boolean') },
  ['userId'],
);
export type MyOrganizationsRequest = Static<typeof MyOrganizationsRequest>;
/** `userId` set: NOT_FOUND unless they are a member (defence in depth behind the gateway's guard) */
export const GetOrganizationRequest = M.obj(
  {
    organizationId: M.str('organization not found', { code: ErrorCode.NOT_FOUND, lowercase: true }),
    userId: M.str('organization not found', { code: ErrorCode.NOT_FOUND }),
  },
  ['organizationId'],
);
export type GetOrganizationRequest = Static<typeof GetOrganizationRequest>;

export interface PersonView {
  type: 'user' | 'group' | 'service_account';
  id: string;
  name: string;
  username?: string;
  email?: string;
  /** `source: 'group'`: held through the groups in `groups` (one entry per role, naming every group that gives it) */
  roles: Array<{ id: string; name: string; source: 'direct' | 'group'; groups?: Array<{ id: string; name: string }> }>;
  groups: Array<{ id: string; name: string }>;
}

const orgPathId = M.str('organization not found', { code: ErrorCode.NOT_FOUND, lowercase: true });

export const ListPeopleRequest = M.obj(
  {
    organizationId: orgPathId,
    search: M.str('search is too long', { maxLength: 200 }),
    type: M.oneOf('type must be user, service_account or group', 'user', 'service_account', 'group'),
    roleId: M.str('roleId must be a role id', { lowercase: true }),
    limit,
    cursor,
  },
  ['organizationId'],
);
export type ListPeopleRequest = Static<typeof ListPeopleRequest>;

const roleId = M.uuid('roleId must be a role id');

export const AddPeopleRequest = M.obj(
  {
    organizationId: orgId,
    handles: M.list(M.str('', { minLength: 1, maxLength: 320 }), 'handles must be 1 to 500 usernames or emails', { minItems: 1, maxItems: 500 }),
    /** already checked as assignable by the gateway; default Member */
    roleId,
  },
  ['organizationId', 'handles'],
);
export type AddPeopleRequest = Static<typeof AddPeopleRequest>;
export interface AddPeopleReply {
  added: Array<{ userId: string; username: string }>;
  notFound: string[];
  alreadyMembers: string[];
}

/** The accounts are identity's to check (CreateAccountsRequest): they are passed on as they are. */
export const CreateMemberAccountsRequest = M.obj(
  {
    organizationId: orgId,
    accounts: Type.Array(Type.Object({ email: Type.String(), username: Type.Optional(Type.String()), name: Type.Optional(Type.String()) }), {
      'x-refusal': { code: ErrorCode.VALIDATION_FAILED, message: 'accounts must be a list of { email, username?, name? }' },
    }),
    roleId,
    /** passed on to identity (CreateAccountsRequest.passwordSeed); the gateway derives it from the Idempotency-Key */
    passwordSeed: M.str('passwordSeed must be 43 characters of base64url'),
  },
  ['organizationId', 'accounts'],
);
export type CreateMemberAccountsRequest = Static<typeof CreateMemberAccountsRequest>;

export const RemovePersonRequest = M.obj({ organizationId: orgId, userId: target() });
export type RemovePersonRequest = Static<typeof RemovePersonRequest>;
export const ResetMemberPasswordRequest = M.obj({ organizationId: orgId, userId: target() });
export type ResetMemberPasswordRequest = Static<typeof ResetMemberPasswordRequest>;

export interface GroupView {
  id: string;
  name: string;
  description: string;
  memberIds: string[];
  role: { id: string; name: string };
}
/** `description` defaults to empty, `memberIds` to none. */
export const CreateGroupRequest = M.obj(
  { organizationId: orgId, name: M.text(EntityName), description: M.text(Description), memberIds: userIds('memberIds') },
  ['organizationId', 'name'],
);
export type CreateGroupRequest = Static<typeof CreateGroupRequest>;
export const UpdateGroupRequest = M.obj(
  {
    organizationId: orgId,
    groupId: target(),
    name: M.text(EntityName),
    description: M.text(Description),
    addMemberIds: userIds('addMemberIds'),
    removeMemberIds: userIds('removeMemberIds'),
    /** the whole new member list (instead of addMemberIds/removeMemberIds): decided on the group as it is then */
    memberIds: userIds('memberIds'),
  },
  ['organizationId', 'groupId'],
);
export type UpdateGroupRequest = Static<typeof UpdateGroupRequest>;
export const DeleteGroupRequest = M.obj({ organizationId: orgId, groupId: target() });
export type DeleteGroupRequest = Static<typeof DeleteGroupRequest>;
export const ListGroupsRequest = M.obj({ organizationId: orgPathId, limit, cursor }, ['organizationId']);
export type ListGroupsRequest = Static<typeof ListGroupsRequest>;
export const GetGroupRequest = M.obj({ organizationId: orgPathId, groupId: M.str('group not found', { code: ErrorCode.NOT_FOUND, lowercase: true }) });
export type GetGroupRequest = Static<typeof GetGroupRequest>;

export interface ProjectView {
  id: string;
  name: string;
  ownerId: string;
}
export const CreateProjectRequest = M.obj({ organizationId: orgId, name: M.text(EntityName) });
export type CreateProjectRequest = Static<typeof CreateProjectRequest>;
export const ListProjectsRequest = M.obj({ organizationId: orgPathId, limit, cursor }, ['organizationId']);
export type ListProjectsRequest = Static<typeof ListProjectsRequest>;
export const GetProjectRequest = M.obj({ organizationId: orgPathId, projectId: M.str('project not found', { code: ErrorCode.NOT_FOUND, lowercase: true }) });
export type GetProjectRequest = Static<typeof GetProjectRequest>;
export const TransferProjectRequest = M.obj({ organizationId: orgId, projectId: target(), userId: M.uuid('userId must be a user id') });
export type TransferProjectRequest = Static<typeof TransferProjectRequest>;
export const DeleteProjectRequest = M.obj({ organizationId: orgId, projectId: target() });
export type DeleteProjectRequest = Static<typeof DeleteProjectRequest>;

export const AssignRoleRequest = M.obj(
  {
    organizationId: M.uuid('organizationId must be a UUID'),
    subjectId: M.uuid('subjectId must be a UUID'),
    roleId: M.uuid('roleId must be a UUID'),
    subjectType: M.oneOf('subjectType must be user or group', 'user', 'group'),
    /** null or absent: the organization role of the subject */
    projectId: M.nullableUuid('projectId must be a UUID'),
  },
  ['organizationId', 'subjectId', 'roleId', 'subjectType'],
);
export type AssignRoleRequest = Static<typeof AssignRoleRequest>;

export interface BindingView {
  subjectType: 'user' | 'group';
  subjectId: string;
  projectId: string | null;
  role: { id: string; name: string };
}

export const UnassignRoleRequest = M.obj({
  organizationId: M.uuid('organizationId must be a UUID'),
  projectId: M.uuid('projectId must be a UUID'),
  subjectId: M.uuid('subjectId must be a UUID'),
});
export type UnassignRoleRequest = Static<typeof UnassignRoleRequest>;

/** `checkOnly`: only whether the actor may give a service account that role (before identity creates it); nothing is added */
export const AddServiceAccountRequest = M.obj(
  {
    organizationId: orgId,
    serviceAccountId: M.uuid('serviceAccountId must be a UUID'),
    name: M.str('name must be a string', { maxLength: 39 }),
    roleId,
    checkOnly: M.bool('checkOnly must be a boolean'),
  },
  ['organizationId'],
);
export type AddServiceAccountRequest = Static<typeof AddServiceAccountRequest>;
export const ServiceAccountRolesRequest = M.obj({ organizationId: orgId, ids: userIds('ids') });
export type ServiceAccountRolesRequest = Static<typeof ServiceAccountRolesRequest>;
export interface ServiceAccountRoles {
  /** the organization role bound to it directly (null: not a member) */
  role: { id: string; name: string } | null;
  projectRoles: Array<{ projectId: string; roleId: string; roleName: string }>;
}
export type ServiceAccountRolesReply = Record<string, ServiceAccountRoles>;

/** The body of every message membership takes, by the key of its subject (checked at the edge, libs/messaging). */
export const MembershipRequests = {
  health: M.none(),
  createOrganization: CreateOrganizationRequest,
  myOrganizations: MyOrganizationsRequest,
  getOrganization: GetOrganizationRequest,
  listPeople: ListPeopleRequest,
  addPeople: AddPeopleRequest,
  createAccounts: CreateMemberAccountsRequest,
  removePerson: RemovePersonRequest,
  resetPassword: ResetMemberPasswordRequest,
  createGroup: CreateGroupRequest,
  updateGroup: UpdateGroupRequest,
  deleteGroup: DeleteGroupRequest,
  listGroups: ListGroupsRequest,
  getGroup: GetGroupRequest,
  createProject: CreateProjectRequest,
  listProjects: ListProjectsRequest,
  getProject: GetProjectRequest,
  transferProject: TransferProjectRequest,
  deleteProject: DeleteProjectRequest,
  assignRole: AssignRoleRequest,
  unassignRole: UnassignRoleRequest,
  addServiceAccount: AddServiceAccountRequest,
  serviceAccountRoles: ServiceAccountRolesRequest,
} satisfies Record<keyof typeof MembershipSubjects, TSchema>;
