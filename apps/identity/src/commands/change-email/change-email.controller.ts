import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ErrorCode, IdentitySubjects, type ChangeEmailRequest, type Message, type UserProfile } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { changeUniqueValue, runUserCommand } from '../../user/user-command.runner';
import { getExistingUser, toProfile } from '../../projections/users.read';

@Controller()
export class ChangeEmailController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(IdentitySubjects.changeEmail())
  async change(@Payload() msg: Message<ChangeEmailRequest>): Promise<UserProfile> {
    const { userId, email } = msg.body;
    const user = await getExistingUser(this.infra.db, userId);
    await changeUniqueValue(
      this.infra,
      { kind: 'email', userId, oldValue: user.email!, newValue: email, takenCode: ErrorCode.EMAIL_TAKEN, takenMessage: 'the email address is taken' },
      () => runUserCommand(this.infra, { kind: 'ChangeEmail', userId, email }, msg.meta),
    );
    return toProfile(await getExistingUser(this.infra.db, userId));
  }
}
