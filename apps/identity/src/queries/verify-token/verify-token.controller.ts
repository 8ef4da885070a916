import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainError, ErrorCode, IdentitySubjects, type AuthenticatedUser, type Message, type VerifyTokenRequest } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { hashToken, isSessionToken, obviouslyForged } from '../../credentials/api-token';
import { apiTokens, sessions } from '../../credentials/credentials.repository';
import { usersCollection } from '../../projections/users.projection';

/** lastUsedAt is written at most once a minute per token, so verification stays a read in the common case. */
const LAST_USED_GRANULARITY_MS = 60_000;

@Controller()
export class VerifyTokenController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /**
   * Token → user, for the gateway (which caches API-token answers, docs/identity.md "Verified tokens at the
   * gateway", so this runs on a cache miss, for session tokens and at most once a minute per cached token).
   * Every verification reads the credential store and the users read model, so a reset token, a logout or
   * ended sessions are refused at once. The answer carries what the gateway invalidates by (token id,
   * session epoch, expiry), never a hash.
   * Unknown, expired, revoked or superseded tokens all get the same UNAUTHENTICATED.
   */
  @MessagePattern(IdentitySubjects.verifyToken())
  async verify(@Payload() msg: Message<VerifyTokenRequest>): Promise<AuthenticatedUser> {
    const { token } = msg.body; // a string of 10 to 500 characters (VerifyTokenRequest), else refused as unknown
    const unauthenticated = new DomainError(ErrorCode.UNAUTHENTICATED, 'missing, unknown, expired or revoked token');
    if (obviouslyForged(token)) throw unauthenticated;
    const db = this.infra.db;

    if (isSessionToken(token)) {
      const session = await sessions(db).findOne({ _id: hashToken(token) });
      if (!session || session.expiresAt.getTime() <= Date.now()) throw unauthenticated;
      const user = await usersCollection(db).findOne({ _id: session.userId });
      if (!user?.exists || (user.sessionEpoch ?? 0) !== session.epoch) throw unauthenticated;
      return { userId: user._id, username: user.username!, tokenKind: 'session', sessionEpoch: session.epoch, expiresAt: session.expiresAt.toISOString() };
    }

    const credential = await apiTokens(db).findOne({ _id: credentialId(token) });
    if (!credential) throw unauthenticated;
    const user = await usersCollection(db).findOne({ _id: credential.userId });
    if (!user?.exists || user.tokenId !== credential.tokenId) throw unauthenticated;
    const now = Date.now();
    if (!credential.lastUsedAt || now - credential.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
      // awaited (at most one write per token per minute): the request that used the token sees it recorded
      await apiTokens(db)
        .updateOne({ _id: credential._id, lastUsedAt: credential.lastUsedAt }, { $set: { lastUsedAt: new Date(now) } })
        .catch(() => undefined);
    }
    return { userId: user._id, username: user.username!, tokenKind: 'api', tokenId: credential.tokenId, expiresAt: null };
  }
}

const credentialId = hashToken;
