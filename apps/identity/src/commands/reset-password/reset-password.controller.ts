import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { EventStore } from '@app/event-store';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, UserApiTokenRevoked, type Message, type ResetPasswordReply, type ResetPasswordRequest } from '@app/contracts';
import { EVENT_STORE, MONGO_DB } from '@app/platform';
import { generateTemporaryPassword, hashPassword } from '../../credentials/password-hash';
import { deleteSupersededApiTokens, sessions, storePassword } from '../../credentials/credentials.repository';
import { USER_COMMANDS, type UserCommandRunner } from '../../user/user-command.runner';
import { userStreamId } from '../../user/user.state';
import { getExistingUser } from '../../projections/users.read';

@Controller()
export class ResetPasswordController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(USER_COMMANDS) private readonly runUserCommand: UserCommandRunner,
  ) {}

  /**
   * The managing organization resets an account's password to a temporary one (membership checks the
   * caller's permission first). The account may be compromised, so every session ends and the personal API
   * token is revoked (`user.api-token-revoked`): the events raise the session epoch and clear the current
   * token id, which every verification compares, before this returns. The new hash is stored after the
   * append, so a refused reset (NOT_MANAGED_ACCOUNT) changes nothing.
   */
  @MessagePattern(IdentitySubjects.resetPassword())
  async reset(@Payload() msg: Message<ResetPasswordRequest>): Promise<ResetPasswordReply> {
    const { userId, organizationId } = msg.body;
    await getExistingUser(this.db, userId);
    const result = await this.runUserCommand({ kind: 'ResetPasswordToTemporary', userId, organizationId }, msg.meta);
    const apiTokenRevoked = !!result.commit?.events.some((e) => e.type === UserApiTokenRevoked.type);
    const temporaryPassword = generateTemporaryPassword();
    await storePassword(this.db, userId, await hashPassword(temporaryPassword), true);
    await sessions(this.db).deleteMany({ userId });
    if (apiTokenRevoked) await deleteSupersededApiTokens(this.db, userId, await this.store.readStream(userStreamId(userId)));
    return { temporaryPassword, apiTokenRevoked };
  }
}
