import { ErrorCode, type ErrorReply } from '@app/contracts';

/** An error reply of a service, or one the gateway makes itself, on its way to the problem filter. */
export class ServiceError extends Error {
  constructor(readonly reply: ErrorReply) {
    super(reply.message);
  }
}

/** HTTP status of every error code: an HTTP concern, so it lives in the gateway only. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  WEAK_PASSWORD: 400,
  NOT_A_MEMBER: 400,
  ROLE_SCOPE_MISMATCH: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  PASSWORD_CHANGE_REQUIRED: 403,
  PRIVILEGE_ESCALATION: 403,
  NOT_MANAGED_ACCOUNT: 403,
  NOT_FOUND: 404,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  SLUG_TAKEN: 409,
  ALREADY_MEMBER: 409,
  OWNS_PROJECTS: 409,
  OWNER_PROTECTED: 409,
  LAST_OWNER: 409,
  ROLE_READ_ONLY: 409,
  ROLE_IN_USE: 409,
  ROLE_NAME_TAKEN: 409,
  GROUP_NAME_TAKEN: 409,
  PROJECT_NAME_TAKEN: 409,
  SERVICE_ACCOUNT_NAME_TAKEN: 409,
  CONCURRENT_MODIFICATION: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  OUTCOME_UNKNOWN: 503,
  INTERNAL: 500,
};

export const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** 503 SERVICE_UNAVAILABLE: nothing was sent or done, the same request may simply be sent again. */
export const serviceUnavailable = (message = 'a service did not answer; nothing was changed') =>
  new ServiceError({ code: ErrorCode.SERVICE_UNAVAILABLE, message });

/**
 * 503 OUTCOME_UNKNOWN: a command was sent and its answer did not come back in time, so the change may or may
 * not have been applied. `idempotencyKey` is the key to send the same request again with: that retry gets
 * the first outcome and applies nothing twice. The key is kept out of log lines (it derives the key that
 * encrypts stored responses): `details` is not enumerable, so a logged error does not carry it, while the
 * problem filter still reads it into the response body.
 */
export function outcomeUnknown(idempotencyKey: string): ServiceError {
  const reply: ErrorReply = {
    code: ErrorCode.OUTCOME_UNKNOWN,
    message: 'the change was sent but its outcome is unknown: it may or may not have been applied; send the same request again with this Idempotency-Key',
  };
  Object.defineProperty(reply, 'details', { value: { idempotencyKey }, enumerable: false });
  return new ServiceError(reply);
}
