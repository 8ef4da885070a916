import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { isErrorReply, stableUuid, type Message } from '@app/contracts';
import { metaOf, type GatewayRequest } from './request-context';
import { ServiceError, serviceUnavailable } from './service-error';

export const NATS_CLIENT = Symbol('NATS_CLIENT');
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Request/reply to the services: the request's audit metadata travels with every message. */
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
    try {
      return await firstValueFrom(this.client.send<T>(subject, message).pipe(timeout(timeoutMs ?? this.config.SERVICE_REQUEST_TIMEOUT_MS)));
    } catch (err) {
      if (isErrorReply(err)) throw new ServiceError(err);
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
