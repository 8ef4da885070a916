import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type LogoutRequest, type Message } from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { hashToken } from '../../credentials/api-token';
import { sessions } from '../../credentials/credentials.repository';

@Controller()
export class LogoutController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  /** Revokes one session token; the next verification of it fails. */
  @MessagePattern(IdentitySubjects.logout())
  async logout(@Payload() msg: Message<LogoutRequest>): Promise<{ ok: true }> {
    if (msg.body.token !== undefined) await sessions(this.infra.db).deleteOne({ _id: hashToken(msg.body.token) });
    return { ok: true };
  }
}
