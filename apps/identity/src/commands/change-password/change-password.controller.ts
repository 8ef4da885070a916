import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Registry } from 'prom-client';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type ChangePasswordRequest, type Message, type SessionReply } from '@app/contracts';
import { InjectConfig, METRICS_REGISTRY, MONGO_DB, type ServiceConfig } from '@app/platform';
import { checkPassword } from '../../credentials/check-password';
import { loginMetrics } from '../../credentials/login-metrics';
import { hashPassword } from '../../credentials/password-hash';
import { storePassword } from '../../credentials/credentials.repository';
import { openSession } from '../../credentials/sessions';
import { USER_COMMANDS, type UserCommandRunner } from '../../user/user-command.runner';

@Controller()
export class ChangePasswordController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(METRICS_REGISTRY) private readonly metrics: Registry,
    @InjectConfig() private readonly config: ServiceConfig<'identity'>,
    @Inject(USER_COMMANDS) private readonly runUserCommand: UserCommandRunner,
  ) {}

  /**
   * Login + current password (the temporary one at first login) + new password → new password, temporary
   * flag cleared, and a session. The event is appended first, then the hash stored: the decider's policy
   * check (WEAK_PASSWORD) runs before anything changes.
   */
  @MessagePattern(IdentitySubjects.changePassword())
  async change(@Payload() msg: Message<ChangePasswordRequest>): Promise<SessionReply> {
    const { login, currentPassword, newPassword } = msg.body;
    const { user } = await checkPassword(this.db, login, currentPassword, msg.meta?.ip, loginMetrics(this.metrics));
    const result = await this.runUserCommand({ kind: 'SetPassword', userId: user._id, newPassword, currentPassword }, msg.meta);
    await storePassword(this.db, user._id, await hashPassword(newPassword), false);
    return openSession({ db: this.db, config: this.config }, user._id, result.state.sessionEpoch ?? 0);
  }
}
