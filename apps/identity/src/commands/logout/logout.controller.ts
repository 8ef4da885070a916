import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type LogoutRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { hashToken } from '../../credentials/api-token';
import { sessions } from '../../credentials/credentials.repository';
import { runUserCommand } from '../../user/user-command.runner';

@Controller()
export class LogoutController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /**
   * Ends every session of the caller: appends `user.sessions-ended` (reason `logout`), which raises the
   * session epoch, so identity refuses the user's sessions from then on and every gateway drops the ones it
   * cached (docs/identity.md "Verified tokens at the gateway"). Answers once the event is in JetStream. An
   * unknown, expired or already ended session changes nothing.
   */
  @MessagePattern(IdentitySubjects.logout())
  async logout(@Payload() msg: Message<LogoutRequest>): Promise<{ ok: true }> {
    if (msg.body.token === undefined) return { ok: true };
    const _id = hashToken(msg.body.token);
    const session = await sessions(this.infra.db).findOne({ _id });
    if (!session || session.expiresAt.getTime() <= Date.now()) return { ok: true };
    await runUserCommand(this.infra, { kind: 'EndSessions', userId: session.userId, epoch: session.epoch }, msg.meta);
    await sessions(this.infra.db).deleteOne({ _id });
    return { ok: true };
  }
}
