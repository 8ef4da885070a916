import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainError, ErrorCode, IdentitySubjects, type AuthenticatedUser, type Message, type VerifyTokenRequest } from '@app/contracts';
import { MONGO_DB } from '@app/platform';
import { hashToken, isServiceAccountToken, isSessionToken, LEGACY_SESSION_TOKEN_PREFIX, obviouslyForged } from '../../credentials/api-token';
import { apiTokens, serviceAccountTokens, sessions } from '../../credentials/credentials.repository';
import { serviceAccountsCollection } from '../../service-account/service-accounts.projection';
import { tokenUsable } from '../../service-account/service-account.state';
import { usersCollection } from '../../projections/users.projection';

/** lastUsedAt is written at most once a minute per token, so verification stays a read in the common case. */
const LAST_USED_GRANULARITY_MS = 60_000;

@Controller()
export class VerifyTokenController {
  constructor(@Inject(MONGO_DB) private readonly db: Db) {}

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
    const db = this.db;

    if (isServiceAccountToken(token)) {
      const principal = await this.serviceAccount(token);
      if (principal) return principal;
    }
    if (isSessionToken(token) || token.startsWith(LEGACY_SESSION_TOKEN_PREFIX)) {
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

  /**
   * A service account's token: its credential, and in the read model the account live and active with the
   * token's id among its tokens, unexpired. Undefined when it is not one (a `pps_` session of before, or unknown).
   */
  private async serviceAccount(token: string): Promise<AuthenticatedUser | undefined> {
    const db = this.db;
    const credential = await serviceAccountTokens(db).findOne({ _id: hashToken(token) });
    if (!credential) return undefined;
    const account = await serviceAccountsCollection(db).findOne({ _id: credential.serviceAccountId });
    const now = Date.now();
    if (!account || !tokenUsable(account, credential.tokenId, now))
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'missing, unknown, expired or revoked token');
    if (!credential.lastUsedAt || now - credential.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
      await serviceAccountTokens(db)
        .updateOne({ _id: credential._id, lastUsedAt: credential.lastUsedAt }, { $set: { lastUsedAt: new Date(now) } })
        .catch(() => undefined);
    }
    return {
      userId: account._id,
      username: account.name!,
      tokenKind: 'service-account',
      tokenId: credential.tokenId,
      organizationId: account.organizationId,
      expiresAt: account.tokens![credential.tokenId].expiresAt,
    };
  }
}

const credentialId = hashToken;
