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
  CONCURRENT_MODIFICATION: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
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

export const serviceUnavailable = (message = 'a service did not answer in time') =>
  new ServiceError({ code: ErrorCode.SERVICE_UNAVAILABLE, message });
