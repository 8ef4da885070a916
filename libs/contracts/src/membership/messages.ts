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

export interface CreateOrganizationRequest {
  name: string;
  slug?: string;
}
export interface MyOrganizationsRequest {
  userId: string;
}
/** `userId` set: NOT_FOUND unless they are a member (defence in depth behind the gateway's guard) */
export interface GetOrganizationRequest {
  organizationId: string;
  userId?: string;
}

export interface PersonView {
  type: 'user' | 'group';
  id: string;
  name: string;
  username?: string;
  email?: string;
  roles: Array<{ id: string; name: string; source: 'direct' | 'group' }>;
  groups: Array<{ id: string; name: string }>;
}

export interface ListPeopleRequest {
  organizationId: string;
  search?: string;
  type?: 'user' | 'group';
  roleId?: string;
  limit?: number;
  cursor?: string;
}

export interface AddPeopleRequest {
  organizationId: string;
  handles: string[];
  /** already checked as assignable by the gateway; default Member */
  roleId?: string;
}
export interface AddPeopleReply {
  added: Array<{ userId: string; username: string }>;
  notFound: string[];
  alreadyMembers: string[];
}

export interface CreateMemberAccountsRequest {
  organizationId: string;
  accounts: Array<{ email: string; username?: string; name?: string }>;
  roleId?: string;
  /** passed on to identity (CreateAccountsRequest.passwordSeed); the gateway derives it from the Idempotency-Key */
  passwordSeed?: string;
}

export interface RemovePersonRequest {
  organizationId: string;
  userId: string;
}
export interface ResetMemberPasswordRequest {
  organizationId: string;
  userId: string;
}

export interface GroupView {
  id: string;
  name: string;
  description: string;
  memberIds: string[];
  role: { id: string; name: string };
}
export interface CreateGroupRequest {
  organizationId: string;
  name: string;
  description: string;
  memberIds: string[];
}
export interface UpdateGroupRequest {
  organizationId: string;
  groupId: string;
  name?: string;
  description?: string;
  addMemberIds?: string[];
  removeMemberIds?: string[];
}
export interface DeleteGroupRequest {
  organizationId: string;
  groupId: string;
}
export interface ListGroupsRequest {
  organizationId: string;
  limit?: number;
  cursor?: string;
}
export interface GetGroupRequest {
  organizationId: string;
  groupId: string;
}

export interface ProjectView {
  id: string;
  name: string;
  ownerId: string;
}
export interface CreateProjectRequest {
  organizationId: string;
  name: string;
}
export interface ListProjectsRequest {
  organizationId: string;
  limit?: number;
  cursor?: string;
}
export interface GetProjectRequest {
  organizationId: string;
  projectId: string;
}
export interface TransferProjectRequest {
  organizationId: string;
  projectId: string;
  userId: string;
}
export interface DeleteProjectRequest {
  organizationId: string;
  projectId: string;
}

export interface AssignRoleRequest {
  organizationId: string;
  subjectType: 'user' | 'group';
  subjectId: string;
  /** null: the organization role of the subject */
  projectId: string | null;
  roleId: string;
}

export interface BindingView {
  subjectType: 'user' | 'group';
  subjectId: string;
  projectId: string | null;
  role: { id: string; name: string };
}

export interface UnassignRoleRequest {
  organizationId: string;
  projectId: string;
  subjectId: string;
}
