import { Injectable, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ErrorCode } from '@app/contracts';
import { ServiceError } from '../common/service-error';
import { IS_PUBLIC } from './public.decorator';

/** Global guard: every route needs a valid token unless it is marked @Public(). */
@Injectable()
export class BearerAuthGuard extends AuthGuard('bearer') {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    return isPublic ? true : super.canActivate(context);
  }

  handleRequest<T>(err: unknown, user: T): T {
    if (err instanceof ServiceError && err.reply.code !== ErrorCode.UNAUTHENTICATED) throw err;
    if (err || !user)
      throw new UnauthorizedException({ code: ErrorCode.UNAUTHENTICATED, message: 'missing, unknown, expired or revoked token' });
    return user;
  }
}
