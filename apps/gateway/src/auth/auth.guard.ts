import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode, IdentitySubjects, type AuthenticatedUser } from '@app/contracts';
import { ServiceError, serviceUnavailable } from '../common/service-error';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { routeRules } from './route-rules';
import { VERIFIED_TOKENS, VerifiedTokens } from './verified-tokens';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The token of `Authorization: Bearer <token>` (`Token <token>` is rewritten to it by the request-context
 * middleware), and nowhere else: never a query parameter or a body field (API.md), which end up in
 * proxy logs, browser history and referrers.
 */
export const bearerToken = (authorization: string | undefined): string | undefined => BEARER.exec(authorization ?? '')?.[1];

const unauthenticated = () => new UnauthorizedException({ code: ErrorCode.UNAUTHENTICATED, message: 'missing, unknown, expired or revoked token' });

/**
 * Global guard: every route needs a valid token unless it is marked @Public(). The request first waits for
 * its read index (the events stream as of its arrival, applied by this gateway); then a cached API token or
 * session answers without a hop, anything else is verified by identity (and its answer cached). So a
 * revoked token or ended session fails on the very next request on any replica (docs/identity.md).
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly services: ServicesClient,
    @Inject(VERIFIED_TOKENS) private readonly verified: VerifiedTokens,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rules = routeRules(this.reflector, context);
    if (rules.isPublic) return true;
    const req = context.switchToHttp().getRequest<GatewayRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw unauthenticated();
    const index = await this.verified.readIndex(rules.answeredHere).catch(() => {
      throw serviceUnavailable();
    });
    const seq = (req.ctx.readIndex = index.sequence);
    req.ctx.leased = index.leased;
    req.user = this.verified.lookup(token);
    if (req.user) return true;
    try {
      req.user = await this.services.call<AuthenticatedUser>(IdentitySubjects.verifyToken(), { token }, req);
      if (req.user) this.verified.remember(token, req.user, seq);
    } catch (err) {
      if (err instanceof ServiceError && err.reply.code !== ErrorCode.UNAUTHENTICATED) throw err;
      throw unauthenticated();
    }
    if (!req.user) throw unauthenticated();
    return true;
  }
}
