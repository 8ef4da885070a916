import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ErrorCode, IdentitySubjects, type ChangeProfileRequest, type Message, type UserProfile } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { changeUniqueValue, runUserCommand } from '../../user/user-command.runner';
import { getExistingUser, toProfile } from '../../projections/users.read';

@Controller()
export class ChangeProfileController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /** `{ name?, username? }`: two commands (ChangeScreenName, ChangeUsername), each idempotent by its own id. */
  @MessagePattern(IdentitySubjects.changeProfile())
  async change(@Payload() msg: Message<ChangeProfileRequest>): Promise<UserProfile> {
    // both checked at the edge before either is applied: a bad name does not leave a changed username behind
    const { userId, username, name } = msg.body;
    const user = await getExistingUser(this.infra.db, userId);
    if (username !== undefined) {
      await changeUniqueValue(
        this.infra,
        {
          kind: 'username',
          userId,
          oldValue: user.username!,
          newValue: username,
          takenCode: ErrorCode.USERNAME_TAKEN,
          takenMessage: `username ${username} is taken`,
        },
        () => runUserCommand(this.infra, { kind: 'ChangeUsername', userId, username }, { ...msg.meta, commandId: `${msg.meta.commandId}:username` }),
      );
    }
    if (name !== undefined)
      await runUserCommand(this.infra, { kind: 'ChangeScreenName', userId, name }, { ...msg.meta, commandId: `${msg.meta.commandId}:name` });
    return toProfile(await getExistingUser(this.infra.db, userId));
  }
}
