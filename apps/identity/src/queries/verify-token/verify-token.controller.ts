import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainError, ErrorCode, IdentitySubjects, type AuthenticatedUser, type Message, type VerifyTokenRequest } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { hashToken } from '../../credentials/api-token';
import { apiTokens } from '../../credentials/credentials.repository';
import { usersCollection } from '../../projections/users.projection';

@Controller()
export class VerifyTokenController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /** Token → user. Unknown, revoked or superseded tokens are UNAUTHENTICATED, all with the same answer. */
  @MessagePattern(IdentitySubjects.verifyToken())
  async verify(@Payload() msg: Message<VerifyTokenRequest>): Promise<AuthenticatedUser> {
    const token = msg.body?.token;
    const unauthenticated = new DomainError(ErrorCode.UNAUTHENTICATED, 'missing, unknown or revoked token');
    if (typeof token !== 'string' || token.length < 10 || token.length > 500) throw unauthenticated;
    const credential = await apiTokens(this.infra.db).findOne({ _id: hashToken(token) });
    if (!credential) throw unauthenticated;
    const user = await usersCollection(this.infra.db).findOne({ _id: credential.userId });
    if (!user?.exists || user.tokenId !== credential.tokenId) throw unauthenticated;
    return { userId: user._id, username: user.username!, tokenKind: 'api' };
  }
}
