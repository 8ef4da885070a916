import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';
import type { OrgAccessSnapshot } from '@app/access-model';
import { AuthorizationSubjects, type Message, type OrgAccessReply, type OrgAccessRequest } from '@app/contracts';
import { JsonText, maxPayload } from '@app/messaging';
import { NATS_CONNECTION } from '@app/platform';
import { ACCESS_VIEW } from '../../access/access.tokens';
import type { AccessView } from '../../view/access-view';

/** What the reply's envelope and headers may take besides the state. */
const ENVELOPE_BYTES = 4096;

/** The largest reply (its JSON, in bytes) the server takes in one message. */
export const orgAccessBudget = (nc: Pick<NatsConnection, 'info'>): number => maxPayload(nc) - ENVELOPE_BYTES;

/**
 * One organization's state from the in-memory view, once the view applied `atLeast` (the gateway's position when
 * it started loading the organization into its own index; docs/architecture.md "Checks at the gateway"). Taken
 * synchronously, so `sequence` is exactly what the state reflects. Serialized here, once: a state larger than one
 * NATS message takes (a large organization) is answered `tooLarge`, and the gateway asks `check` for it instead.
 */
@Controller()
export class OrgAccessController {
  constructor(
    @Inject(ACCESS_VIEW) private readonly view: AccessView,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @MessagePattern(AuthorizationSubjects.orgAccess())
  async orgAccess(@Payload() msg: Message<OrgAccessRequest>): Promise<JsonText | OrgAccessReply<OrgAccessSnapshot>> {
    await this.view.waitForSequence(msg.body.atLeast);
    const reply: OrgAccessReply<OrgAccessSnapshot> = { sequence: this.view.sequence, snapshot: this.view.find(msg.body.organizationId)?.toSnapshot() ?? null };
    const json = JSON.stringify(reply);
    return Buffer.byteLength(json) <= orgAccessBudget(this.nc) ? new JsonText(json) : { sequence: reply.sequence, snapshot: null, tooLarge: true };
  }
}
