import { hkdfSync } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ErrorCode } from '../errors';
import { Description, Email, EntityName, PersonName, Username } from '../fields';
import { M } from '../message-schema';
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
  /** service accounts (docs/identity.md "Service accounts"); the gateway checks `organization.service_accounts.*` first */
  createServiceAccount: () => cmdSubject('identity', 'service-account', 'create'),
  changeServiceAccount: () => cmdSubject('identity', 'service-account', 'change'),
  deleteServiceAccount: () => cmdSubject('identity', 'service-account', 'delete'),
  createServiceAccountToken: () => cmdSubject('identity', 'service-account', 'create-token'),
  revokeServiceAccountToken: () => cmdSubject('identity', 'service-account', 'revoke-token'),
  getServiceAccount: () => qrySubject('identity', 'get-service-account'),
  listServiceAccounts: () => qrySubject('identity', 'list-service-accounts'),
};

/** Rules shared by the gateway's DTOs and identity's own checks (API.md "Accounts, login, profile"); the text limits are fields.ts's. */
export { USERNAME_PATTERN, USERNAME_MAX, NAME_MAX, EMAIL_MAX } from '../fields';
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

/** Anything but a plausible token is refused as every unknown token is (the secret never named). */
export const VerifyTokenRequest = M.obj({
  token: M.str('missing, unknown, expired or revoked token', { minLength: 10, maxLength: 500, code: ErrorCode.UNAUTHENTICATED }),
});
export type VerifyTokenRequest = Static<typeof VerifyTokenRequest>;

/** A user id that is not a string is nobody's. */
const userId = M.str('user not found', { code: ErrorCode.NOT_FOUND });
export interface AuthenticatedUser {
  /** the user's id, or the service account's */
  userId: string;
  /** the user's username, or the service account's name */
  username: string;
  /** 'api' for a personal API token, 'session' for a login session, 'service-account' for a service account's token */
  tokenKind: 'api' | 'session' | 'service-account';
  /** a service account's token: the organization that owns the service account */
  organizationId?: string;
  /** the API token's id (`user.api-token-reset`): what the gateway's cache invalidates by; never the secret or a hash */
  tokenId?: string;
  /** the session's epoch (`user.sessions-ended` raises it) */
  sessionEpoch?: number;
  /** when the token stops working on its own (sessions), ISO 8601; null: never */
  expiresAt?: string | null;
}

export const GetUserRequest = M.obj({ userId });
export type GetUserRequest = Static<typeof GetUserRequest>;
export interface UserProfile {
  id: string;
  username: string;
  name: string;
  email: string;
  createdAt: string;
}

export const MAX_ACCOUNTS = 500;
/**
 * How long a caller waits for an account batch of `accounts` (the gateway for membership, membership for
 * identity): its usual wait for a request plus `ACCOUNT_BATCH_MS_PER_ACCOUNT` per account. A batch is a fixed
 * number of round trips plus a small cost per account (docs/identity.md "Account batches"), so a batch of one
 * waits like any request and a lost replica is noticed as soon as for any other request; the per-account
 * figure is the measured cost with a wide margin (docs/idempotency.md "Long calls").
 */
export const ACCOUNT_BATCH_MS_PER_ACCOUNT = 40;
export const accountBatchTimeoutMs = (accounts: number, usualMs: number): number => usualMs + accounts * ACCOUNT_BATCH_MS_PER_ACCOUNT;
export const PASSWORD_SEED_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const ACCOUNTS_MESSAGE = `organizationId and 1 to ${MAX_ACCOUNTS} accounts are required`;

/** Accounts created by an organization (membership calls this), with temporary passwords shown once. */
export const CreateAccountsRequest = M.obj(
  {
    organizationId: M.str(ACCOUNTS_MESSAGE),
    accounts: Type.Array(M.obj({ email: M.text(Email), username: M.text(Username), name: M.text(PersonName) }, ['email']), {
      minItems: 1,
      maxItems: MAX_ACCOUNTS,
      'x-refusal': { code: ErrorCode.VALIDATION_FAILED, message: ACCOUNTS_MESSAGE },
    }),
    /**
     * A secret (256 bits, base64url) from which the n-th account's temporary password is derived, so that
     * the same command sent again returns the same passwords (see `temporaryPasswordSeed`). Never stored or
     * logged. Without it the passwords are random, and a repeated command lists the accounts it had already
     * created under `existing`.
     */
    passwordSeed: M.str('passwordSeed must be 43 characters of base64url', { pattern: PASSWORD_SEED_PATTERN.source }),
  },
  ['organizationId', 'accounts'],
);
export type CreateAccountsRequest = Static<typeof CreateAccountsRequest>;
export interface CreateAccountsReply {
  created: Array<{ userId: string; email: string; username: string; temporaryPassword: string }>;
  /** `username` when identity knows the user (membership needs it to add them; not part of the HTTP reply) */
  existing: Array<{ userId: string; email: string; username?: string }>;
}

/**
 * The password seed of an account batch sent under an Idempotency-Key: derived (HKDF) from the client's key
 * and its scope (user id or `anonymous`), so only a client that holds the key gets the same temporary
 * passwords again, as with the gateway's encrypted replay records.
 */
export const temporaryPasswordSeed = (scope: string, idempotencyKey: string): string =>
  Buffer.from(hkdfSync('sha256', idempotencyKey, scope, 'account-temporary-passwords', 32)).toString('base64url');

const credentials = 'login and passwords must be strings';
export const LoginRequest = M.obj({
  /** email or username */
  login: M.str(credentials),
  password: M.str(credentials),
});
export type LoginRequest = Static<typeof LoginRequest>;
export interface SessionReply {
  token: string;
  expiresAt: string;
}
export interface LoginReply extends SessionReply {
  user: UserProfile;
}

export const ChangePasswordRequest = M.obj({ login: M.str(credentials), currentPassword: M.str(credentials), newPassword: M.str(credentials) });
export type ChangePasswordRequest = Static<typeof ChangePasswordRequest>;

/** Without a token there is nothing to end. */
export const LogoutRequest = M.obj({ token: M.str('token must be a string') }, []);
export type LogoutRequest = Static<typeof LogoutRequest>;

/** Reset by the managing organization (membership calls this after its permission check). */
export const ResetPasswordRequest = M.obj({ organizationId: M.str('organizationId must be a string'), userId });
export type ResetPasswordRequest = Static<typeof ResetPasswordRequest>;
export interface ResetPasswordReply {
  temporaryPassword: string;
  /** the user's personal API token was revoked by this reset (false: they had none) */
  apiTokenRevoked: boolean;
}

/** Both checked before either is applied: a bad name does not leave a changed username behind. */
export const ChangeProfileRequest = M.obj({ userId, username: M.text(Username), name: M.text(PersonName) }, ['userId']);
export type ChangeProfileRequest = Static<typeof ChangeProfileRequest>;
export const ChangeEmailRequest = M.obj({ userId, email: M.text(Email) });
export type ChangeEmailRequest = Static<typeof ChangeEmailRequest>;
export const ResetApiTokenRequest = M.obj({ userId });
export type ResetApiTokenRequest = Static<typeof ResetApiTokenRequest>;
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
export const FindUsersRequest = M.obj({ handles: M.list(M.str('', { maxLength: 320 }), 'handles must be up to 500 strings', { maxItems: 500 }) });
export type FindUsersRequest = Static<typeof FindUsersRequest>;
export interface FindUsersReply {
  found: Array<{ handle: string; userId: string; username: string; email: string }>;
  notFound: string[];
}

const saOrgId = M.str('organization not found', { code: ErrorCode.NOT_FOUND, lowercase: true });
const serviceAccountId = M.str('service account not found', { code: ErrorCode.NOT_FOUND, lowercase: true });

/** `serviceAccountId` derives from the command id (a retried command creates nothing twice). */
export const CreateServiceAccountRequest = M.obj(
  { organizationId: saOrgId, name: M.text(Username), description: M.text(Description), createdBy: M.uuid('createdBy must be a user id') },
  ['organizationId', 'name', 'createdBy'],
);
export type CreateServiceAccountRequest = Static<typeof CreateServiceAccountRequest>;
export const ChangeServiceAccountRequest = M.obj(
  { organizationId: saOrgId, serviceAccountId, name: M.text(Username), description: M.text(Description), active: M.bool('active must be a boolean') },
  ['organizationId', 'serviceAccountId'],
);
export type ChangeServiceAccountRequest = Static<typeof ChangeServiceAccountRequest>;
export const ServiceAccountRef = M.obj({ organizationId: saOrgId, serviceAccountId });
export type ServiceAccountRef = Static<typeof ServiceAccountRef>;
export const CreateServiceAccountTokenRequest = M.obj(
  { organizationId: saOrgId, serviceAccountId, name: M.text(EntityName), expiresAt: M.str('expiresAt must be an ISO 8601 date-time', { maxLength: 40 }) },
  ['organizationId', 'serviceAccountId', 'name'],
);
export type CreateServiceAccountTokenRequest = Static<typeof CreateServiceAccountTokenRequest>;
export const RevokeServiceAccountTokenRequest = M.obj({
  organizationId: saOrgId,
  serviceAccountId,
  tokenId: M.str('token not found', { code: ErrorCode.NOT_FOUND, lowercase: true }),
});
export type RevokeServiceAccountTokenRequest = Static<typeof RevokeServiceAccountTokenRequest>;
export const ListServiceAccountsRequest = M.obj(
  { organizationId: saOrgId, limit: M.int('limit must be 1 to 500', { minimum: 1, maximum: 500 }), cursor: M.str('cursor is invalid', { maxLength: 200 }) },
  ['organizationId'],
);
export type ListServiceAccountsRequest = Static<typeof ListServiceAccountsRequest>;

/** A service account as identity has it (its role and project roles are membership's). */
export interface ServiceAccountView {
  id: string;
  organizationId: string;
  name: string;
  description: string;
  active: boolean;
  createdBy: string;
  createdAt: string;
}
export interface ServiceAccountTokenView {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}
export interface ServiceAccountDetail extends ServiceAccountView {
  tokens: ServiceAccountTokenView[];
}
export interface CreatedServiceAccountToken {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  /** the secret, shown once */
  token: string;
}

/** The body of every message identity takes, by the key of its subject (checked at the edge, libs/messaging). */
export const IdentityRequests = {
  health: M.none(),
  verifyToken: VerifyTokenRequest,
  getUser: GetUserRequest,
  getTokenMetadata: GetUserRequest,
  findUsers: FindUsersRequest,
  /** identity bootstraps its admin itself at start-up (BOOTSTRAP_ADMIN_*): nothing is taken over NATS */
  bootstrap: M.none(),
  createAccounts: CreateAccountsRequest,
  login: LoginRequest,
  logout: LogoutRequest,
  changePassword: ChangePasswordRequest,
  resetPassword: ResetPasswordRequest,
  changeProfile: ChangeProfileRequest,
  changeEmail: ChangeEmailRequest,
  resetApiToken: ResetApiTokenRequest,
  createServiceAccount: CreateServiceAccountRequest,
  changeServiceAccount: ChangeServiceAccountRequest,
  deleteServiceAccount: ServiceAccountRef,
  createServiceAccountToken: CreateServiceAccountTokenRequest,
  revokeServiceAccountToken: RevokeServiceAccountTokenRequest,
  getServiceAccount: ServiceAccountRef,
  listServiceAccounts: ListServiceAccountsRequest,
} satisfies Record<keyof typeof IdentitySubjects, TSchema>;
