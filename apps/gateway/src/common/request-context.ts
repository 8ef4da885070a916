import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser, CommandMeta, Medium } from '@app/contracts';

/** Audit context of one HTTP request (API.md "Audit context"). */
export interface RequestContext {
  requestId: string;
  ip: string;
  userAgent?: string;
  medium: Medium;
  /** set by the IdempotencyInterceptor for every write route (common/idempotent-writes.ts): the client's Idempotency-Key, or one it generated */
  idempotencyKey?: string;
  /** messages sent so far per subject, to derive their ids from the Idempotency-Key */
  commandsSent?: Record<string, number>;
  /** a command has been sent: from then on a failure cannot say that nothing was done */
  commandSent?: boolean;
  /** the events stream's sequence this request reflects at least (set by the bearer guard, auth/verified-tokens.ts) */
  readIndex?: number;
  /** the read index is the read lease's floor, not the stream's end looked up (a route `@AnsweredHere`) */
  leased?: boolean;
  /** the tokens of the request's `Consistency-Token` header (checked at the edge, common/consistency.ts) */
  after?: string[];
  /** the consistency tokens of the writes this request made (answered in the `Consistency-Token` header) */
  written?: string[];
}

export type GatewayRequest = FastifyRequest & { ctx: RequestContext; user?: AuthenticatedUser };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function mediumOf(req: { headers: IncomingHttpHeaders }): Medium {
  const client = String(req.headers['x-client'] ?? '').toLowerCase();
  if (client === 'web') return 'web';
  if (client === 'cli' || /\bcli\b|curl|httpie|wget/i.test(String(req.headers['user-agent'] ?? ''))) return 'cli';
  return 'api';
}

/**
 * A request's context: its id (X-Request-Id, or generated), client IP (`req.ip`: Fastify's, which reads
 * X-Forwarded-For only through the proxies TRUST_PROXY trusts), medium. Also rewrites `Authorization: Token x`
 * to `Bearer x`.
 */
export function openRequestContext(req: { headers: IncomingHttpHeaders; ip?: string; socket: { remoteAddress?: string } }): RequestContext {
  const given = req.headers['x-request-id'];
  const auth = req.headers.authorization;
  if (auth && /^token\s+/i.test(auth)) req.headers.authorization = auth.replace(/^token\s+/i, 'Bearer ');
  return {
    requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
    ip: (req.ip || req.socket.remoteAddress || '').replace(/^::ffff:/, ''),
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 1000) : undefined,
    medium: mediumOf(req),
  };
}

/** Command metadata of a request: the actor is the authenticated user. */
export function metaOf(req: GatewayRequest, commandId: string = randomUUID()): CommandMeta {
  return {
    commandId,
    actor: req.user ? { id: req.user.userId, username: req.user.username } : { id: 'anonymous' },
    correlationId: req.ctx.requestId,
    requestId: req.ctx.requestId,
    ip: req.ctx.ip || undefined,
    userAgent: req.ctx.userAgent,
    medium: req.ctx.medium,
    timestamp: new Date().toISOString(),
    readIndex: req.ctx.readIndex,
  };
}
