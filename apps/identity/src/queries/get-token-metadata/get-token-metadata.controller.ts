import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type GetUserRequest, type Message, type TokenMetadata } from '@app/contracts';
import { MONGO_DB } from '@app/platform';
import { apiTokens } from '../../credentials/credentials.repository';
import { getExistingUser } from '../../projections/users.read';

@Controller()
export class GetTokenMetadataController {
  constructor(@Inject(MONGO_DB) private readonly db: Db) {}

  /** The current personal API token's id, when it was issued and last used (to the minute); never the secret. */
  @MessagePattern(IdentitySubjects.getTokenMetadata())
  async get(@Payload() msg: Message<GetUserRequest>): Promise<TokenMetadata> {
    const user = await getExistingUser(this.db, msg.body.userId);
    const doc = user.tokenId ? await apiTokens(this.db).findOne({ userId: user._id, tokenId: user.tokenId }) : null;
    return {
      tokenId: user.tokenId ?? null,
      createdAt: doc?.createdAt.toISOString() ?? null,
      lastUsedAt: doc?.lastUsedAt?.toISOString() ?? null,
    };
  }
}
