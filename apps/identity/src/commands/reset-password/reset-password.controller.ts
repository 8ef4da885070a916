import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type Message, type ResetPasswordReply, type ResetPasswordRequest } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { generateTemporaryPassword, hashPassword } from '../../credentials/password-hash';
import { sessions, storePassword } from '../../credentials/credentials.repository';
import { runUserCommand } from '../../user/user-command.runner';
import { getExistingUser } from '../../projections/users.read';

@Controller()
export class ResetPasswordController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /**
   * The managing organization resets an account's password to a temporary one (membership checks the
   * caller's permission first). Every session ends: the event raises the session epoch, which every
   * verification compares, before this returns. The new hash is stored after the append, so a refused
   * reset (NOT_MANAGED_ACCOUNT) changes nothing.
   */
  @MessagePattern(IdentitySubjects.resetPassword())
  async reset(@Payload() msg: Message<ResetPasswordRequest>): Promise<ResetPasswordReply> {
    const { userId, organizationId } = msg.body ?? ({} as ResetPasswordRequest);
    await getExistingUser(this.infra.db, userId);
    await runUserCommand(this.infra, { kind: 'ResetPasswordToTemporary', userId, organizationId }, msg.meta);
    const temporaryPassword = generateTemporaryPassword();
    await storePassword(this.infra.db, userId, await hashPassword(temporaryPassword), true);
    await sessions(this.infra.db).deleteMany({ userId });
    return { temporaryPassword };
  }
}
