import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type LogoutRequest, type Message } from '@app/contracts';
import { MONGO_DB } from '@app/platform';
import { hashToken } from '../../credentials/api-token';
import { sessions } from '../../credentials/credentials.repository';
import { USER_COMMANDS, type UserCommandRunner } from '../../user/user-command.runner';

@Controller()
export class LogoutController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(USER_COMMANDS) private readonly runUserCommand: UserCommandRunner,
  ) {}

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
    const session = await sessions(this.db).findOne({ _id });
    if (!session || session.expiresAt.getTime() <= Date.now()) return { ok: true };
    await this.runUserCommand({ kind: 'EndSessions', userId: session.userId, epoch: session.epoch }, msg.meta);
    await sessions(this.db).deleteOne({ _id });
    return { ok: true };
  }
}
