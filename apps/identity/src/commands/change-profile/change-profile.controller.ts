import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Reservations } from '@app/event-store';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ErrorCode, IdentitySubjects, type ChangeProfileRequest, type Message, type UserProfile } from '@app/contracts';
import { MONGO_DB, RESERVATIONS } from '@app/platform';
import { changeUniqueValue, USER_COMMANDS, type UserCommandRunner } from '../../user/user-command.runner';
import { getExistingUser, toProfile } from '../../projections/users.read';

@Controller()
export class ChangeProfileController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(RESERVATIONS) private readonly reservations: Reservations,
    @Inject(USER_COMMANDS) private readonly runUserCommand: UserCommandRunner,
  ) {}

  /** `{ name?, username? }`: two commands (ChangeScreenName, ChangeUsername), each idempotent by its own id. */
  @MessagePattern(IdentitySubjects.changeProfile())
  async change(@Payload() msg: Message<ChangeProfileRequest>): Promise<UserProfile> {
    // both checked at the edge before either is applied: a bad name does not leave a changed username behind
    const { userId, username, name } = msg.body;
    const user = await getExistingUser(this.db, userId);
    if (username !== undefined) {
      await changeUniqueValue(
        this.reservations,
        {
          kind: 'username',
          userId,
          oldValue: user.username!,
          newValue: username,
          takenCode: ErrorCode.USERNAME_TAKEN,
          takenMessage: `username ${username} is taken`,
        },
        () => this.runUserCommand({ kind: 'ChangeUsername', userId, username }, { ...msg.meta, commandId: `${msg.meta.commandId}:username` }),
      );
    }
    if (name !== undefined) await this.runUserCommand({ kind: 'ChangeScreenName', userId, name }, { ...msg.meta, commandId: `${msg.meta.commandId}:name` });
    return toProfile(await getExistingUser(this.db, userId));
  }
}
