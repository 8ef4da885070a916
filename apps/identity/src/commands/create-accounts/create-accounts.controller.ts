import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type CreateAccountsReply, type CreateAccountsRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { createAccounts } from './create-accounts.handler';

@Controller()
export class CreateAccountsController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(IdentitySubjects.createAccounts())
  create(@Payload() msg: Message<CreateAccountsRequest>): Promise<CreateAccountsReply> {
    return createAccounts(this.infra, msg.body, msg.meta);
  }
}
