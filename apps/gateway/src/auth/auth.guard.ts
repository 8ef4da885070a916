import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode, IdentitySubjects, type AuthenticatedUser } from '@app/contracts';
import { ServiceError } from '../common/service-error';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { IS_PUBLIC } from './public.decorator';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The token of `Authorization: Bearer <token>` (`Token <token>` is rewritten to it by the request-context
 * middleware), and nowhere else: never a query parameter or a body field (API.md), which end up in
 * proxy logs, browser history and referrers.
 */
export const bearerToken = (authorization: string | undefined): string | undefined => BEARER.exec(authorization ?? '')?.[1];

const unauthenticated = () => new UnauthorizedException({ code: ErrorCode.UNAUTHENTICATED, message: 'missing, unknown, expired or revoked token' });

/**
 * Global guard: every route needs a valid token unless it is marked @Public(). Identity answers every
 * verification, so a revoked token fails on the very next request on any replica.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly services: ServicesClient,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<GatewayRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw unauthenticated();
    try {
      req.user = await this.services.call<AuthenticatedUser>(IdentitySubjects.verifyToken(), { token }, req);
    } catch (err) {
      if (err instanceof ServiceError && err.reply.code !== ErrorCode.UNAUTHENTICATED) throw err;
      throw unauthenticated();
    }
    if (!req.user) throw unauthenticated();
    return true;
  }
}
