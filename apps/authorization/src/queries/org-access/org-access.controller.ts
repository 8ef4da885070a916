import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { OrgAccessSnapshot } from '@app/access-model';
import { AuthorizationSubjects, type Message, type OrgAccessReply, type OrgAccessRequest } from '@app/contracts';
import { ACCESS_VIEW } from '../../access/access.tokens';
import type { AccessView } from '../../view/access-view';

/**
 * One organization's state from the in-memory view, once the view applied `atLeast` (the gateway's position when
 * it started loading the organization into its own index; docs/architecture.md "Checks at the gateway"). Taken
 * synchronously, so `sequence` is exactly what the state reflects.
 */
@Controller()
export class OrgAccessController {
  constructor(@Inject(ACCESS_VIEW) private readonly view: AccessView) {}

  @MessagePattern(AuthorizationSubjects.orgAccess())
  async orgAccess(@Payload() msg: Message<OrgAccessRequest>): Promise<OrgAccessReply<OrgAccessSnapshot>> {
    await this.view.waitForSequence(msg.body.atLeast);
    return { sequence: this.view.sequence, snapshot: this.view.find(msg.body.organizationId)?.toSnapshot() ?? null };
  }
}
