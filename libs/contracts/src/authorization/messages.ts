import { qrySubject } from '../subjects';

/**
 * Messages other processes send to authorization. Authorization adds its own command subjects
 * (roles, bindings) next to these.
 */
export const AuthorizationSubjects = {
  health: () => qrySubject('authorization', 'health'),
  /** CheckPermissionsRequest → CheckPermissionsReply; used by the gateway's permission guard on every request */
  check: () => qrySubject('authorization', 'check'),
  /** CheckRoleAssignableRequest → CheckRoleAssignableReply, or an error reply (NOT_FOUND, ROLE_SCOPE_MISMATCH, PRIVILEGE_ESCALATION, FORBIDDEN) */
  checkRoleAssignable: () => qrySubject('authorization', 'check-role-assignable'),
  /** OwnersRequest → OwnersReply: users holding the Owner role directly or through a group */
  owners: () => qrySubject('authorization', 'owners'),
};

export interface CheckPermissionsRequest {
  organizationId: string;
  userId: string;
  /** when set, project permissions are evaluated in this project (404 semantics: member=false if it is not in the organization) */
  projectId?: string | null;
  permissions: string[];
}

export interface CheckPermissionsReply {
  /** false: the user is not a member of the organization (or the project is not in it) → the gateway answers 404 */
  member: boolean;
  allowed: Record<string, boolean>;
}

export interface CheckRoleAssignableRequest {
  organizationId: string;
  /** who is binding the role: they must hold every permission it grants (and organization.change_owner for Owner) */
  actorId: string;
  roleId: string;
  scope: 'organization' | 'project';
}

export interface CheckRoleAssignableReply {
  roleId: string;
  name: string;
}

export interface OwnersRequest {
  organizationId: string;
}

export interface OwnersReply {
  ownerIds: string[];
}
