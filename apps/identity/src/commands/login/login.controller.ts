import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Registry } from 'prom-client';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainError, ErrorCode, IdentitySubjects, type LoginReply, type LoginRequest, type Message } from '@app/contracts';
import { InjectConfig, METRICS_REGISTRY, MONGO_DB, type ServiceConfig } from '@app/platform';
import { checkPassword } from '../../credentials/check-password';
import { loginMetrics } from '../../credentials/login-metrics';
import { openSession } from '../../credentials/sessions';
import { toProfile } from '../../projections/users.read';

@Controller()
export class LoginController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(METRICS_REGISTRY) private readonly metrics: Registry,
    @InjectConfig() private readonly config: ServiceConfig<'identity'>,
  ) {}

  /** Email or username + password → a session token. A temporary password must be changed first. */
  @MessagePattern(IdentitySubjects.login())
  async login(@Payload() msg: Message<LoginRequest>): Promise<LoginReply> {
    const { user, credential } = await checkPassword(this.db, msg.body.login, msg.body.password, msg.meta?.ip, loginMetrics(this.metrics));
    if (credential.temporary || user.passwordTemporary)
      throw new DomainError(ErrorCode.PASSWORD_CHANGE_REQUIRED, 'the password is temporary: set a new one with POST /api/v1/auth/password');
    const session = await openSession({ db: this.db, config: this.config }, user._id, user.sessionEpoch ?? 0);
    return { ...session, user: toProfile(user) };
  }
}
