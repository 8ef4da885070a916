import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { ErrorCode, type ErrorReply } from '@app/contracts';
import { HTTP_STATUS, ServiceError, TITLES } from './service-error';
import type { GatewayRequest } from './request-context';

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  413: ErrorCode.VALIDATION_FAILED,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

/**
 * The errors of the JSON body parser (http-errors with a `type`; their message and `body` are not used,
 * they may hold what the client sent). docs/http.md lists what the gateway accepts.
 */
const BODY_READ_ERRORS: Record<string, ErrorReply> = {
  'entity.too.large': { code: ErrorCode.VALIDATION_FAILED, message: 'request body larger than 1 MiB' },
  'entity.parse.failed': { code: ErrorCode.VALIDATION_FAILED, message: 'request body is not valid JSON' },
  'encoding.unsupported': { code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: 'Content-Encoding must be identity: request bodies are not read compressed' },
  'charset.unsupported': { code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: 'unsupported charset: JSON bodies are UTF-8' },
};

const isBodyReadError = (e: unknown): e is { status: number; type: string } =>
  typeof (e as { type?: unknown })?.type === 'string' &&
  typeof (e as { status?: unknown }).status === 'number' &&
  (e as { status: number }).status >= 400 &&
  (e as { status: number }).status < 500;

/** Every error leaves the gateway as `application/problem+json` `{ type, title, status, detail, code, errors? }`. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<GatewayRequest>();
    let status = 500;
    let reply: ErrorReply = { code: ErrorCode.INTERNAL, message: 'internal error' };
    let errors: unknown;

    if (exception instanceof ServiceError) {
      reply = exception.reply;
      status = HTTP_STATUS[reply.code] ?? 500;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse() as { code?: ErrorCode; message?: unknown; errors?: unknown } | string;
      const b = typeof body === 'string' ? { message: body } : body;
      reply = {
        code: b.code ?? CODE_OF_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL : ErrorCode.VALIDATION_FAILED),
        message: status === 413 ? 'request body larger than 1 MiB' : typeof b.message === 'string' ? b.message : exception.message,
      };
      errors = b.errors;
    } else if (isBodyReadError(exception)) {
      status = exception.status;
      reply = BODY_READ_ERRORS[exception.type] ?? { code: ErrorCode.VALIDATION_FAILED, message: 'request body could not be read' };
    }
    if (status >= 500) this.logger.error({ err: exception, requestId: req.ctx?.requestId }, 'request failed');

    if (status === 401) res.setHeader('WWW-Authenticate', req.headers.authorization ? 'Bearer error="invalid_token"' : 'Bearer');
    const retryAfter = status === 429 ? Number(reply.details?.retryAfterSeconds) : status === 503 ? 1 : NaN;
    if (Number.isFinite(retryAfter) && retryAfter > 0) res.setHeader('Retry-After', String(Math.ceil(retryAfter)));
    res
      .status(status)
      .type('application/problem+json')
      .json({
        type: `https://docs.people-platform.dev/problems/${reply.code.toLowerCase().replace(/_/g, '-')}`,
        title: TITLES[status] ?? 'Error',
        status,
        detail: reply.message,
        code: reply.code,
        ...(errors ? { errors } : {}),
        ...(reply.details ?? {}),
      });
  }
}
