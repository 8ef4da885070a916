import { randomUUID } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type Message, type ResetApiTokenReply, type ResetApiTokenRequest } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { generateApiToken, hashToken } from '../../credentials/api-token';
import { apiTokens, storeApiToken } from '../../credentials/credentials.repository';
import { runUserCommand } from '../../user/user-command.runner';

@Controller()
export class ResetApiTokenController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /**
   * Issues a new personal API token (returned once). Its hash is stored first under a new token id, which
   * is inert until `user.api-token-reset` makes it current; from then on the old token id no longer
   * matches and the old token is refused. Old token documents are removed afterwards.
   */
  @MessagePattern(IdentitySubjects.resetApiToken())
  async reset(@Payload() msg: Message<ResetApiTokenRequest>): Promise<ResetApiTokenReply> {
    const userId = msg.body?.userId;
    const token = generateApiToken();
    const tokenId = randomUUID();
    await storeApiToken(this.infra.db, { _id: hashToken(token), userId, tokenId, createdAt: new Date(), lastUsedAt: null });
    try {
      await runUserCommand(this.infra, { kind: 'ResetApiToken', userId, tokenId }, msg.meta);
    } catch (err) {
      await apiTokens(this.infra.db).deleteOne({ _id: hashToken(token) });
      throw err;
    }
    await apiTokens(this.infra.db).deleteMany({ userId, tokenId: { $ne: tokenId } });
    return { token };
  }
}
