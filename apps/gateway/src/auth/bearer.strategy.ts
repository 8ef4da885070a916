import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { IdentitySubjects, type AuthenticatedUser } from '@app/contracts';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';

/**
 * `Authorization: Bearer <token>` (and `Token <token>`, rewritten by the request-context middleware).
 * Identity answers every verification, so a revoked token fails on the very next request on any replica.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly services: ServicesClient) {
    super({ passReqToCallback: true });
  }

  async validate(req: GatewayRequest, token: string): Promise<AuthenticatedUser> {
    return this.services.call<AuthenticatedUser>(IdentitySubjects.verifyToken(), { token }, req);
  }
}
