import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type FindUsersReply, type FindUsersRequest, type Message } from '@app/contracts';
import { MONGO_DB } from '@app/platform';
import { usersCollection } from '../../projections/users.projection';

@Controller()
export class FindUsersController {
  constructor(@Inject(MONGO_DB) private readonly db: Db) {}

  /** Handles → users. `tomfern` does not find `TomFern` (API.md); `TOM@x.io` finds `tom@x.io`. */
  @MessagePattern(IdentitySubjects.findUsers())
  async find(@Payload() msg: Message<FindUsersRequest>): Promise<FindUsersReply> {
    const { handles } = msg.body;
    const reply: FindUsersReply = { found: [], notFound: [] };
    for (const handle of handles) {
      const user = await usersCollection(this.db).findOne(
        handle.includes('@') ? { emailLower: handle.toLowerCase() } : { usernameLower: handle.toLowerCase(), username: handle },
      );
      if (user?.exists) reply.found.push({ handle, userId: user._id, username: user.username!, email: user.email! });
      else reply.notFound.push(handle);
    }
    return reply;
  }
}
