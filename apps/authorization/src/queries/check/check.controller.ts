import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthorizationSubjects, parseConsistencyToken, type CheckPermissionsReply, type CheckPermissionsRequest, type Message } from '@app/contracts';
import { ACCESS_VIEW } from '../../access/access.tokens';
import type { AccessView } from '../../view/access-view';
import { isUuid } from '../views';

/** How long a check waits for the caller's writes (consistency tokens): shorter than the gateway's wait for the answer, so the 503 is this one's. */
const TOKEN_WAIT_MS = 3000;

/** Bodies arrive checked against their schemas (AuthorizationRequests: ids lower-cased). Answered from the in-memory view after it caught up with the events stream. */
@Controller()
export class CheckController {
  constructor(@Inject(ACCESS_VIEW) private readonly view: AccessView) {}

  @MessagePattern(AuthorizationSubjects.check())
  async check(@Payload() msg: Message<CheckPermissionsRequest>): Promise<CheckPermissionsReply> {
    const b = msg.body;
    // the gateway names the sequence it read when the request arrived (one hop); others get a stream look-up
    await (b.atLeast === undefined ? this.view.catchUp() : this.view.waitForSequence(b.atLeast));
    // the caller's own writes that may not be in the stream yet (consistency tokens the gateway names in the meta)
    if (msg.meta.after?.length)
      await this.view.waitForPositions(
        msg.meta.after.flatMap((t) => parseConsistencyToken(t) ?? []),
        TOKEN_WAIT_MS,
      );
    const org = isUuid(b.organizationId) ? this.view.find(b.organizationId) : undefined;
    if (!org) return { member: false, allowed: Object.fromEntries(b.permissions.map((p) => [p, false])) };
    return org.check(b.userId, b.projectId ?? null, b.permissions);
  }
}
