import { ServerNats, type CustomStrategy, type NatsContext } from '@nestjs/microservices';
import { ErrorCode as NatsErrorCode, type Msg, type NatsConnection, type NatsError, type SubscriptionOptions } from 'nats';
import { ErrorCode, type Naming, type ServiceName } from '@app/contracts';
// not exported by the package's index (Nest 11); the class its NATS server uses by default
import { NatsRecordSerializer } from '@nestjs/microservices/serializers/nats-record.serializer';
import { JsonText, jsonReplyPrefix } from './json-reply';
import { storeLargeReply } from './large-replies';

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
    /** of the large-replies store, as of the installation's streams (NATS_STREAM_REPLICAS) */
    private readonly replicas = 1,
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

  /**
   * Nest's reply, but one larger than the server takes in a message (max_payload) goes into the large-replies
   * object store and the caller gets a message naming it (large-replies.ts); if that fails too, an `INTERNAL`
   * error reply at once (logged) instead of leaving the caller to time out.
   */
  override getPublisher(natsMsg: Msg, id: string, ctx: NatsContext): (response: unknown) => unknown {
    const publish = super.getPublisher(natsMsg, id, ctx);
    return (response: unknown) => {
      try {
        return publish(response);
      } catch (err) {
        if ((err as NatsError).code !== NatsErrorCode.MaxPayloadExceeded) throw err;
        void this.publishLarge(natsMsg, response as { id: string }).catch((failed: Error) => {
          this.logger.error(`the answer to ${natsMsg.subject} is larger than one message and could not be stored: ${failed.message}`);
          publish({ err: { code: ErrorCode.INTERNAL, message: 'the answer is larger than one message can carry' }, isDisposed: true });
        });
      }
    };
  }

  private async publishLarge(natsMsg: Msg, packet: { id: string }): Promise<void> {
    // Nest's publisher has set the packet's id before it failed
    const { data } = this.serializer.serialize(packet) as { data: Uint8Array };
    const marker = await storeLargeReply(this.unwrap<NatsConnection>(), this.naming, this.replicas, packet.id, data);
    natsMsg.respond(marker.data, { headers: marker.headers });
  }
}

const encoder = new TextEncoder();

/** Nest's NATS serializer, but a `JsonText` response is written into the envelope as it is (not encoded again). */
export class JsonReplySerializer extends NatsRecordSerializer {
  override serialize(packet: { id?: string; response?: unknown; isDisposed?: boolean; err?: unknown } | undefined) {
    if (packet?.response instanceof JsonText && packet.err == null && packet.isDisposed === true && typeof packet.id === 'string')
      return { data: encoder.encode(`${jsonReplyPrefix(packet.id)}${packet.response.json}}`), headers: undefined };
    return super.serialize(packet);
  }
}

/**
 * NATS transport of a service: request/reply on `cmd.<service>.…` / `qry.<service>.…` subjects of the service's
 * namespace (`naming`, from its configuration), in a queue group named after the service (also namespaced), so
 * replicas share the load. Replies are Nest's, but a `JsonText` one is written as it is (json-reply.ts).
 */
export function natsMicroserviceOptions(service: ServiceName, natsUrl: string, naming: Naming, replicas = 1): CustomStrategy {
  return {
    strategy: new PrefixedServerNats(
      {
        servers: natsUrl.split(','),
        queue: naming.subject(service),
        name: service,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        serializer: new JsonReplySerializer(),
      },
      naming,
      replicas,
    ),
  };
}
