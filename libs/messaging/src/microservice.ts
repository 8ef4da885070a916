import { ServerNats, type CustomStrategy } from '@nestjs/microservices';
import type { Msg, NatsConnection, SubscriptionOptions } from 'nats';
import type { Naming, ServiceName } from '@app/contracts';

/**
 * Nest's NATS server in one installation's namespace: each pattern registered by a `@MessagePattern` (a subject
 * as the code names it, `cmd.<service>.…`) is subscribed as `prefix + pattern`, and the handler, the guards and
 * the context see the subject without the prefix again — so subjects are written once, unprefixed, and the
 * prefix comes from the service's configuration only.
 */
export class PrefixedServerNats extends ServerNats {
  constructor(
    options: ConstructorParameters<typeof ServerNats>[0],
    private readonly naming: Naming,
  ) {
    super(options);
  }

  override bindEvents(client: NatsConnection): void {
    super.bindEvents({ subscribe: (pattern: string, opts?: SubscriptionOptions) => client.subscribe(this.naming.subject(pattern), opts) });
  }

  override handleMessage(channel: string, natsMsg: Msg): Promise<unknown> {
    // the message as it arrived, but with the subject the code knows (NatsContext.getSubject() reads it)
    const local: Msg = Object.create(natsMsg, { subject: { value: this.naming.local(natsMsg.subject) } });
    return super.handleMessage(channel, local);
  }
}

/**
 * NATS transport of a service: request/reply on `cmd.<service>.…` / `qry.<service>.…` subjects of the service's
 * namespace (`naming`, from its configuration), in a queue group named after the service (also namespaced), so
 * replicas share the load.
 */
export function natsMicroserviceOptions(service: ServiceName, natsUrl: string, naming: Naming): CustomStrategy {
  return {
    strategy: new PrefixedServerNats(
      {
        servers: natsUrl.split(','),
        queue: naming.subject(service),
        name: service,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      },
      naming,
    ),
  };
}
