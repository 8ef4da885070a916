import { Inject, Injectable } from '@nestjs/common';
import {
  CONSISTENCY_TOKEN_FIELD,
  DomainError,
  ErrorCode,
  latestPositions,
  parseConsistencyToken,
  formatConsistencyToken,
  stableUuid,
  type Message,
} from '@app/contracts';
import { CallerWrites } from './consistency';
import { isCommandSubject, RpcFailure, type RpcClient } from '@app/messaging';
import { metaOf, type GatewayRequest } from './request-context';
import { outcomeUnknown, ServiceError, serviceUnavailable } from './service-error';

/** the gateway's NATS connection (one per process: requests, the idempotency bucket, the events consumer, health) */
export const GATEWAY_NATS = Symbol('GATEWAY_NATS');
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
/** the gateway's `RpcClient` (libs/messaging) */
export const RPC_CLIENT = Symbol('RPC_CLIENT');
/** what a route answering `callJson`'s bytes says they are (what Fastify says of the JSON it serializes) */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Request/reply to the services: the request's audit metadata travels with every message.
 *
 * A failure says honestly what happened. `SERVICE_UNAVAILABLE`: nothing was done (the broker connection
 * was down, so nothing was sent; or no instance of the service listens, which NATS answers at once; or a
 * query did not answer). `OUTCOME_UNKNOWN`: a command was sent and no answer came back in time (or one
 * was sent earlier in this request), so it may have been applied; the client retries with the request's
 * Idempotency-Key, whose derived command ids make the retry apply nothing twice; a service that answers
 * `OUTCOME_UNKNOWN` (its own command to another service went unanswered) gets the same answer with the key. The
 * gateway does not retry by itself (docs/idempotency.md). The request itself is the shared `RpcClient`'s.
 */
@Injectable()
export class ServicesClient {
  /** the callers' recent writes through this gateway, named in their later messages (`meta.after`) */
  readonly writes = new CallerWrites();

  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: { SERVICE_REQUEST_TIMEOUT_MS: number },
  ) {}

  /** how long a request waits for a service unless its call says otherwise (SERVICE_REQUEST_TIMEOUT_MS) */
  get requestTimeoutMs(): number {
    return this.config.SERVICE_REQUEST_TIMEOUT_MS;
  }

  call<T>(subject: string, body: unknown, req?: GatewayRequest, timeoutMs?: number): Promise<T> {
    return this.send(subject, body, req, timeoutMs, (message, timeout) => this.rpc.request<T>(subject, message, timeout));
  }

  /**
   * A query whose reply the route answers as it is: the reply's JSON bytes, not parsed here (a service that keeps
   * it serialized sends it as `JsonText`), for a `Content-Type: application/json` answer.
   */
  callJson(subject: string, body: unknown, req: GatewayRequest): Promise<Buffer> {
    if (isCommandSubject(subject)) throw new Error(`${subject}: a command's reply is read (its consistency token), not forwarded`);
    return this.send(subject, body, req, undefined, (message, timeout) => this.rpc.requestJson(subject, message, timeout));
  }

  private async send<T>(
    subject: string,
    body: unknown,
    req: GatewayRequest | undefined,
    timeoutMs: number | undefined,
    request: (message: Message, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const message: Message = {
      meta: req ? metaOf(req, commandIdFor(req, subject)) : metaOf({ ctx: { requestId: 'internal', ip: '', medium: 'system' } } as GatewayRequest),
      body,
    };
    const command = isCommandSubject(subject);
    const after = req && this.afterOf(req);
    if (after) message.meta.after = after;
    try {
      const reply = await request(message, timeoutMs ?? this.requestTimeoutMs);
      if (req && command) {
        req.ctx.commandSent = true;
        this.took(req, reply);
      }
      return reply;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const unknown = err.code === ErrorCode.OUTCOME_UNKNOWN;
      if (req && command && unknown) req.ctx.commandSent = true;
      const key = req?.ctx.idempotencyKey;
      if (!(err instanceof RpcFailure)) throw key && unknown ? outcomeUnknown(key) : new ServiceError(err.toReply());
      if (key && req?.ctx.commandSent) throw outcomeUnknown(key);
      throw serviceUnavailable();
    }
  }

  /** The consistency tokens a request's reads wait for: the caller's recent writes, those it names, its own. */
  afterOf(req: GatewayRequest): string[] | undefined {
    return this.writes.after(req.user?.userId, [...(req.ctx.after ?? []), ...(req.ctx.written ?? [])]);
  }

  /**
   * A command's reply may carry its consistency token (the position of its append, CONSISTENCY_TOKEN_FIELD):
   * taken out of the body into the request's written tokens (the `Consistency-Token` header) and remembered for
   * the caller's next requests.
   */
  private took(req: GatewayRequest, reply: unknown): void {
    if (typeof reply !== 'object' || reply === null || !(CONSISTENCY_TOKEN_FIELD in reply)) return;
    const body = reply as Record<string, unknown>;
    const token = body[CONSISTENCY_TOKEN_FIELD];
    delete body[CONSISTENCY_TOKEN_FIELD];
    const position = typeof token === 'string' ? parseConsistencyToken(token) : undefined;
    if (!position) return;
    const written = [...(req.ctx.written ?? []).flatMap((t) => parseConsistencyToken(t) ?? []), position];
    req.ctx.written = latestPositions(written).map(formatConsistencyToken);
    if (req.user) this.writes.remember(req.user.userId, formatConsistencyToken(position));
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
