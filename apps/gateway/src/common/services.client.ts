import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { isErrorReply, stableUuid, subjectPrefix, type Message } from '@app/contracts';
import { metaOf, type GatewayRequest } from './request-context';
import { outcomeUnknown, ServiceError, serviceUnavailable } from './service-error';

export const NATS_CLIENT = Symbol('NATS_CLIENT');
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/**
 * Request/reply to the services: the request's audit metadata travels with every message.
 *
 * A failure says honestly what happened. `SERVICE_UNAVAILABLE`: nothing was done (the broker connection
 * was down, so nothing was sent; or no instance of the service listens, which NATS answers at once; or a
 * query did not answer). `OUTCOME_UNKNOWN`: a command was sent and no answer came back in time (or one
 * was sent earlier in this request), so it may have been applied; the client retries with the request's
 * Idempotency-Key, whose derived command ids make the retry apply nothing twice. The gateway does not retry
 * by itself (docs/idempotency.md).
 */
@Injectable()
export class ServicesClient {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: { SERVICE_REQUEST_TIMEOUT_MS: number },
  ) {}

  async call<T>(subject: string, body: unknown, req?: GatewayRequest, timeoutMs?: number): Promise<T> {
    const message: Message = {
      meta: req ? metaOf(req, commandIdFor(req, subject)) : metaOf({ ctx: { requestId: 'internal', ip: '', medium: 'system' } } as GatewayRequest),
      body,
    };
    const command = subject.startsWith(`${subjectPrefix()}cmd.`);
    try {
      const reply = await firstValueFrom(this.client.send<T>(subject, message).pipe(timeout(timeoutMs ?? this.config.SERVICE_REQUEST_TIMEOUT_MS)));
      if (req && command) req.ctx.commandSent = true;
      return reply;
    } catch (err) {
      if (isErrorReply(err)) throw new ServiceError(err);
      // only a timeout means "sent, no answer": a connection that is down fails before publishing, and
      // "no responders" comes back at once
      if (req && command && err instanceof TimeoutError) req.ctx.commandSent = true;
      const key = req?.ctx.idempotencyKey;
      if (key && req?.ctx.commandSent) throw outcomeUnknown(key);
      throw serviceUnavailable();
    }
  }
}

/** Under an Idempotency-Key, the n-th command to a subject in a request gets the same id on every retry. */
function commandIdFor(req: GatewayRequest, subject: string): string | undefined {
  const key = req.ctx.idempotencyKey;
  if (!key) return undefined;
  const sent = (req.ctx.commandsSent ??= {});
  const n = (sent[subject] = (sent[subject] ?? 0) + 1);
  return stableUuid(`idempotency:${req.user?.userId ?? 'anonymous'}:${key}:${subject}:${n}`);
}
