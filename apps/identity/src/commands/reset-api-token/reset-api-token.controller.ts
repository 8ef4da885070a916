import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { EventStore } from '@app/event-store';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, stableUuid, type Message, type ResetApiTokenReply, type ResetApiTokenRequest } from '@app/contracts';
import { EVENT_STORE, MONGO_DB } from '@app/platform';
import { generateApiToken, hashToken } from '../../credentials/api-token';
import { apiTokens, deleteSupersededApiTokens, storeApiToken } from '../../credentials/credentials.repository';
import { usersCollection } from '../../projections/users.projection';
import { USER_COMMANDS, type UserCommandRunner } from '../../user/user-command.runner';
import { userStreamId } from '../../user/user.state';

/**
 * A reset only depends on the user existing, so deciding again after a concurrent append is always right:
 * enough retries for a burst of concurrent resets of one user (each conflict means another reset got in).
 */
const RESET_RETRIES = 20;

@Controller()
export class ResetApiTokenController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(USER_COMMANDS) private readonly runUserCommand: UserCommandRunner,
  ) {}

  /**
   * Issues a new personal API token (returned once). Its hash is stored first under its token id, which is
   * inert until `user.api-token-reset` makes it current; from then on the old token id no longer matches and
   * the old token is refused. Concurrent resets: the one appended last wins. Afterwards only the credentials
   * of token ids that a later event of the stream superseded are deleted, never one whose reset is still
   * on its way (deleting "every other token of the user" made two concurrent resets delete each other's).
   *
   * The token id derives from the command id: a retried command (same id, its first reply lost) stores a
   * fresh secret under the token id its first run appended, so the retry gets a working token, and the
   * first run's secret, which nobody received, is deleted.
   */
  @MessagePattern(IdentitySubjects.resetApiToken())
  async reset(@Payload() msg: Message<ResetApiTokenRequest>): Promise<ResetApiTokenReply> {
    const db = this.db;
    const { userId } = msg.body;
    const token = generateApiToken();
    const tokenId = stableUuid(`api-token:${msg.meta.commandId}`);
    const createdAt = new Date();
    await storeApiToken(db, { _id: hashToken(token), userId, tokenId, createdAt, lastUsedAt: null });
    try {
      await this.runUserCommand({ kind: 'ResetApiToken', userId, tokenId }, msg.meta, { retries: RESET_RETRIES });
    } catch (err) {
      await apiTokens(db).deleteOne({ _id: hashToken(token) });
      throw err;
    }
    await apiTokens(db).deleteMany({ userId, tokenId, _id: { $ne: hashToken(token) } });
    await deleteSupersededApiTokens(db, userId, await this.store.readStream(userStreamId(userId)));
    const user = await usersCollection(db).findOne({ _id: userId }, { projection: { tokenId: 1 } });
    return { token, tokenId, createdAt: createdAt.toISOString(), current: user?.tokenId === tokenId };
  }
}
