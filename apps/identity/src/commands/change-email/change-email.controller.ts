import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Reservations } from '@app/event-store';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ErrorCode, IdentitySubjects, type ChangeEmailRequest, type Message, type UserProfile } from '@app/contracts';
import { MONGO_DB, RESERVATIONS } from '@app/platform';
import { changeUniqueValue, USER_COMMANDS, type UserCommandRunner } from '../../user/user-command.runner';
import { getExistingUser, toProfile } from '../../projections/users.read';

@Controller()
export class ChangeEmailController {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    @Inject(RESERVATIONS) private readonly reservations: Reservations,
    @Inject(USER_COMMANDS) private readonly runUserCommand: UserCommandRunner,
  ) {}

  @MessagePattern(IdentitySubjects.changeEmail())
  async change(@Payload() msg: Message<ChangeEmailRequest>): Promise<UserProfile> {
    const { userId, email } = msg.body;
    const user = await getExistingUser(this.db, userId);
    await changeUniqueValue(
      this.reservations,
      { kind: 'email', userId, oldValue: user.email!, newValue: email, takenCode: ErrorCode.EMAIL_TAKEN, takenMessage: 'the email address is taken' },
      () => this.runUserCommand({ kind: 'ChangeEmail', userId, email }, msg.meta),
    );
    return toProfile(await getExistingUser(this.db, userId));
  }
}
