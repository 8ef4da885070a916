/** Stable, grep-able error codes of the public contract (API.md). Message replies carry these, never HTTP statuses. */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  PASSWORD_CHANGE_REQUIRED: 'PASSWORD_CHANGE_REQUIRED',
  WEAK_PASSWORD: 'WEAK_PASSWORD',
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  SLUG_TAKEN: 'SLUG_TAKEN',
  ALREADY_MEMBER: 'ALREADY_MEMBER',
  NOT_A_MEMBER: 'NOT_A_MEMBER',
  OWNS_PROJECTS: 'OWNS_PROJECTS',
  OWNER_PROTECTED: 'OWNER_PROTECTED',
  LAST_OWNER: 'LAST_OWNER',
  ROLE_READ_ONLY: 'ROLE_READ_ONLY',
  ROLE_IN_USE: 'ROLE_IN_USE',
  ROLE_NAME_TAKEN: 'ROLE_NAME_TAKEN',
  ROLE_SCOPE_MISMATCH: 'ROLE_SCOPE_MISMATCH',
  PRIVILEGE_ESCALATION: 'PRIVILEGE_ESCALATION',
  GROUP_NAME_TAKEN: 'GROUP_NAME_TAKEN',
  PROJECT_NAME_TAKEN: 'PROJECT_NAME_TAKEN',
  SERVICE_ACCOUNT_NAME_TAKEN: 'SERVICE_ACCOUNT_NAME_TAKEN',
  NOT_MANAGED_ACCOUNT: 'NOT_MANAGED_ACCOUNT',
  CONCURRENT_MODIFICATION: 'CONCURRENT_MODIFICATION',
  RATE_LIMITED: 'RATE_LIMITED',
  /** a request body in an encoding or charset the gateway does not read (HTTP 415) */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What a failed request/reply carries back to the caller. */
export interface ErrorReply {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** A domain rule said no. Deciders throw these; message controllers turn them into ErrorReply. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toReply(): ErrorReply {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isErrorReply(value: unknown): value is ErrorReply {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorReply).code === 'string' &&
    (Object.values(ErrorCode) as string[]).includes((value as ErrorReply).code)
  );
}
