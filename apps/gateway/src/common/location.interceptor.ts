import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';

/**
 * `Location` on every 201 whose answer names the created resource (`id`): the collection's path and the id,
 * e.g. `/api/v1/organizations/{org}/groups/{groupId}`. Outside the idempotency interceptor, so a replayed
 * answer carries it too.
 */
@Injectable()
export class LocationInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    return next.handle().pipe(
      map((body: unknown) => {
        const res = http.getResponse<FastifyReply>();
        const id = (body as { id?: unknown } | null)?.id;
        if (res.statusCode === 201 && typeof id === 'string') {
          const path = http.getRequest<FastifyRequest>().originalUrl.split('?', 1)[0].replace(/\/+$/, '');
          res.header('Location', `${path}/${encodeURIComponent(id)}`);
        }
        return body;
      }),
    );
  }
}
