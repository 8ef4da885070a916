import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainError, ErrorCode, IdentitySubjects, type GetUserRequest, type Message, type UserProfile } from '@app/contracts';
import { MONGO_DB } from '@app/platform';
import { usersCollection } from '../../projections/users.projection';

@Controller()
export class GetUserController {
  constructor(@Inject(MONGO_DB) private readonly db: Db) {}

  @MessagePattern(IdentitySubjects.getUser())
  async get(@Payload() msg: Message<GetUserRequest>): Promise<UserProfile> {
    const user = await usersCollection(this.db).findOne({ _id: msg.body.userId });
    if (!user?.exists) throw new DomainError(ErrorCode.NOT_FOUND, 'user not found');
    return { id: user._id, username: user.username!, name: user.name!, email: user.email!, createdAt: user.createdAt! };
  }
}
