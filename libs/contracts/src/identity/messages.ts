import { hkdfSync } from 'node:crypto';
import { cmdSubject, qrySubject } from '../subjects';

export const IdentitySubjects = {
  health: () => qrySubject('identity', 'health'),
  verifyToken: () => qrySubject('identity', 'verify-token'),
  getUser: () => qrySubject('identity', 'get-user'),
  getTokenMetadata: () => qrySubject('identity', 'get-token-metadata'),
  findUsers: () => qrySubject('identity', 'find-users'),
  bootstrap: () => cmdSubject('identity', 'user', 'bootstrap-admin'),
  createAccounts: () => cmdSubject('identity', 'user', 'create-accounts'),
  login: () => cmdSubject('identity', 'session', 'login'),
  logout: () => cmdSubject('identity', 'session', 'logout'),
  changePassword: () => cmdSubject('identity', 'user', 'change-password'),
  resetPassword: () => cmdSubject('identity', 'user', 'reset-password'),
  changeProfile: () => cmdSubject('identity', 'user', 'change-profile'),
  changeEmail: () => cmdSubject('identity', 'user', 'change-email'),
  resetApiToken: () => cmdSubject('identity', 'user', 'reset-api-token'),
};

/** Rules shared by the gateway's DTOs and identity's own checks (API.md "Accounts, login, profile"). */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,38}$/;
export const USERNAME_MAX = 39;
export const NAME_MAX = 200;
export const EMAIL_MAX = 320;
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

export interface VerifyTokenRequest {
  token: string;
}
export interface AuthenticatedUser {
  userId: string;
  username: string;
  /** 'api' for a personal API token, 'session' for a login session */
  tokenKind: 'api' | 'session';
  /** the API token's id (`user.api-token-reset`): what the gateway's cache invalidates by; never the secret or a hash */
  tokenId?: string;
  /** the session's epoch (`user.sessions-ended` raises it) */
  sessionEpoch?: number;
  /** when the token stops working on its own (sessions), ISO 8601; null: never */
  expiresAt?: string | null;
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

/** Accounts created by an organization (membership calls this), with temporary passwords shown once. */
export interface CreateAccountsRequest {
  organizationId: string;
  accounts: Array<{ email: string; username?: string; name?: string }>;
  /**
   * A secret (256 bits, base64url) from which the n-th account's temporary password is derived, so that
   * the same command sent again returns the same passwords (see `temporaryPasswordSeed`). Never stored or
   * logged. Without it the passwords are random, and a repeated command lists the accounts it had already
   * created under `existing`.
   */
  passwordSeed?: string;
}
export interface CreateAccountsReply {
  created: Array<{ userId: string; email: string; username: string; temporaryPassword: string }>;
  /** `username` when identity knows the user (membership needs it to add them; not part of the HTTP reply) */
  existing: Array<{ userId: string; email: string; username?: string }>;
}

export const PASSWORD_SEED_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The password seed of an account batch sent under an Idempotency-Key: derived (HKDF) from the client's key
 * and its scope (user id or `anonymous`), so only a client that holds the key gets the same temporary
 * passwords again, as with the gateway's encrypted replay records.
 */
export const temporaryPasswordSeed = (scope: string, idempotencyKey: string): string =>
  Buffer.from(hkdfSync('sha256', idempotencyKey, scope, 'account-temporary-passwords', 32)).toString('base64url');

export interface LoginRequest {
  /** email or username */
  login: string;
  password: string;
}
export interface SessionReply {
  token: string;
  expiresAt: string;
}
export interface LoginReply extends SessionReply {
  user: UserProfile;
}

export interface ChangePasswordRequest {
  login: string;
  currentPassword: string;
  newPassword: string;
}

export interface LogoutRequest {
  token: string;
}

/** Reset by the managing organization (membership calls this after its permission check). */
export interface ResetPasswordRequest {
  organizationId: string;
  userId: string;
}
export interface ResetPasswordReply {
  temporaryPassword: string;
  /** the user's personal API token was revoked by this reset (false: they had none) */
  apiTokenRevoked: boolean;
}

export interface ChangeProfileRequest {
  userId: string;
  name?: string;
  username?: string;
}
export interface ChangeEmailRequest {
  userId: string;
  email: string;
}
export interface ResetApiTokenRequest {
  userId: string;
}
export interface ResetApiTokenReply {
  /** the secret, shown once */
  token: string;
  tokenId: string;
  createdAt: string;
  /**
   * whether this token was the current one when the reply was made: false when a concurrent reset was appended
   * after this one (the last reset appended wins; `GET /me/token` shows the current token id)
   */
  current: boolean;
}
export interface TokenMetadata {
  /** id of the current personal API token (null: none) */
  tokenId: string | null;
  createdAt: string | null;
  lastUsedAt: string | null;
}

/** Look-up by handle (for adding people): a username matches exactly (case included), an email regardless of case. */
export interface FindUsersRequest {
  handles: string[];
}
export interface FindUsersReply {
  found: Array<{ handle: string; userId: string; username: string; email: string }>;
  notFound: string[];
}
