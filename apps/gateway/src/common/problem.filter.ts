import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/** Every error leaves the gateway as `application/problem+json` `{ type, title, status, detail, code, errors? }`. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.send(exception, http.getRequest<GatewayRequest>(), http.getResponse<FastifyReply>());
  }

  /** Answers the request with the problem of `exception` (also for what Fastify refuses before Nest sees the request). */
  send(exception: unknown, req: FastifyRequest & Partial<Pick<GatewayRequest, 'ctx'>>, res: FastifyReply): void {
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
    }
    if (status >= 500) this.logger.error({ err: exception, requestId: req.ctx?.requestId }, 'request failed');

    if (status === 401) res.header('WWW-Authenticate', req.headers.authorization ? 'Bearer error="invalid_token"' : 'Bearer');
    const retryAfter = status === 429 ? Number(reply.details?.retryAfterSeconds) : status === 503 ? 1 : NaN;
    if (Number.isFinite(retryAfter) && retryAfter > 0) res.header('Retry-After', String(Math.ceil(retryAfter)));
    res
      .status(status)
      .header('Content-Type', 'application/problem+json; charset=utf-8')
      .send(
        JSON.stringify({
          type: `https://docs.people-platform.dev/problems/${reply.code.toLowerCase().replace(/_/g, '-')}`,
          title: TITLES[status] ?? 'Error',
          status,
          detail: reply.message,
          code: reply.code,
          ...(errors ? { errors } : {}),
          ...(reply.details ?? {}),
        }),
      );
  }
}
