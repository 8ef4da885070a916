import { cmdSubject, qrySubject } from '../subjects';

export const IdentitySubjects = {
  health: () => qrySubject('identity', 'health'),
  verifyToken: () => qrySubject('identity', 'verify-token'),
  getUser: () => qrySubject('identity', 'get-user'),
  bootstrap: () => cmdSubject('identity', 'user', 'bootstrap-admin'),
};

export interface VerifyTokenRequest {
  token: string;
}
export interface AuthenticatedUser {
  userId: string;
  username: string;
  /** 'api' for a personal API token, 'session' for a login session */
  tokenKind: 'api' | 'session';
}

export interface GetUserRequest {
  userId: string;
}
export interface UserProfile {
  id: string;
  username: string;
  name: string;
  email: string;
  createdAt: string;
}
