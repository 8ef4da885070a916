import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type ChangePasswordRequest, type Message, type SessionReply } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { checkPassword } from '../../credentials/check-password';
import { loginMetrics } from '../../credentials/login-metrics';
import { hashPassword } from '../../credentials/password-hash';
import { storePassword } from '../../credentials/credentials.repository';
import { openSession } from '../../credentials/sessions';
import { runUserCommand } from '../../user/user-command.runner';

@Controller()
export class ChangePasswordController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /**
   * Login + current password (the temporary one at first login) + new password → new password, temporary
   * flag cleared, and a session. The event is appended first, then the hash stored: the decider's policy
   * check (WEAK_PASSWORD) runs before anything changes.
   */
  @MessagePattern(IdentitySubjects.changePassword())
  async change(@Payload() msg: Message<ChangePasswordRequest>): Promise<SessionReply> {
    const { login, currentPassword, newPassword } = msg.body;
    const { user } = await checkPassword(this.infra.db, login, currentPassword, msg.meta?.ip, loginMetrics(this.infra.metrics));
    const result = await runUserCommand(this.infra, { kind: 'SetPassword', userId: user._id, newPassword, currentPassword }, msg.meta);
    await storePassword(this.infra.db, user._id, await hashPassword(newPassword), false);
    return openSession(this.infra, user._id, result.state.sessionEpoch ?? 0);
  }
}
