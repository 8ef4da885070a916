import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type FindUsersReply, type FindUsersRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { usersCollection } from '../../projections/users.projection';

@Controller()
export class FindUsersController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /** Handles → users. `tomfern` does not find `TomFern` (API.md); `TOM@x.io` finds `tom@x.io`. */
  @MessagePattern(IdentitySubjects.findUsers())
  async find(@Payload() msg: Message<FindUsersRequest>): Promise<FindUsersReply> {
    const { handles } = msg.body;
    const reply: FindUsersReply = { found: [], notFound: [] };
    for (const handle of handles) {
      const user = await usersCollection(this.infra.db).findOne(
        handle.includes('@') ? { emailLower: handle.toLowerCase() } : { usernameLower: handle.toLowerCase(), username: handle },
      );
      if (user?.exists) reply.found.push({ handle, userId: user._id, username: user.username!, email: user.email! });
      else reply.notFound.push(handle);
    }
    return reply;
  }
}
