import { randomUUID } from 'node:crypto';
import { ErrorCode as NatsErrorCode, Events, JSONCodec, type NatsConnection, type NatsError } from 'nats';
import { DomainError, ErrorCode, isErrorReply, type CommandMeta, type Message, type Naming } from '@app/contracts';
import { jsonResponseOf } from './json-reply';
import { replyBytes } from './large-replies';
import { requesterOf } from './inbox-requests';

/**
 * The request itself failed (not a service's error reply): `SERVICE_UNAVAILABLE` when nothing was done — not
 * sent (the broker connection was down), no instance listens (the broker answers "no responders" at once), or a
 * query got no answer — and `OUTCOME_UNKNOWN` when a command was sent and no answer came back in time, so it
 * may or may not have been applied (docs/idempotency.md).
 */
export class RpcFailure extends DomainError {}

export interface RpcClient {
  /**
   * Sends `{ meta, body }` to `subject` (as the code names it; the client's namespace prefix is added on the wire)
   * in the @nestjs/microservices NATS wire format and returns the reply. An
   * error reply is thrown as a DomainError with its code, message and details unchanged; a failure of the
   * request as an `RpcFailure`.
   */
  request<T>(subject: string, message: Message, timeoutMs?: number): Promise<T>;
  /**
   * The same request, for a caller that forwards the reply as it is: the response's JSON bytes, taken out of
   * the reply without parsing when the service wrote it as `JsonText` (json-reply.ts), else encoded again.
   */
  requestJson(subject: string, message: Message, timeoutMs?: number): Promise<Buffer>;
}

/** How a request ended: a reply, an error reply, or the request itself failed (nothing done / outcome unknown). */
export type RpcOutcome = 'ok' | 'error' | 'unavailable' | 'unknown';

/** Where a connection's client reports each request (the process's metrics); `subject` is `subjectLabel`'s. */
export interface RpcMetrics {
  observe(subject: string, seconds: number, outcome: RpcOutcome): void;
}

const codec = JSONCodec();
const DEFAULT_TIMEOUT_MS = 10_000;
const clients = new WeakMap<NatsConnection, RpcClient>();
const sinks = new WeakMap<NatsConnection, RpcMetrics>();
const namings = new WeakMap<NatsConnection, Naming>();

/**
 * A subject (as the code names it, without the namespace prefix) as a metric label: any segment that looks like
 * an id (a UUID, a number, a long hex string) as `:id`, so the label's values stay as few as the subjects in the code.
 */
export function subjectLabel(subject: string): string {
  return subject
    .split('.')
    .map((segment) => (/^(\d+|[0-9a-f]{16,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.test(segment) ? ':id' : segment))
    .join('.');
}

/** A command subject (as the code names it, without the namespace prefix). */
export const isCommandSubject = (subject: string): boolean => subject.startsWith('cmd.');

export interface RpcClientOptions {
  /** the namespace the requests are sent in (the process's configuration); kept for the connection */
  naming?: Naming;
  /** sees every request on the connection */
  metrics?: RpcMetrics;
}

/**
 * The request/reply client of a connection (one per connection). The connection's owner gives it the namespace
 * once (`naming`, from its configuration: `connectInfrastructure`, the gateway, the CLIs); later callers of the
 * same connection (`callService`) get the same client. A connection never given one sends unprefixed subjects.
 */
export function rpcClient(nc: NatsConnection, options: RpcClientOptions = {}): RpcClient {
  if (options.metrics) sinks.set(nc, options.metrics);
  if (options.naming) namings.set(nc, options.naming);
  let client = clients.get(nc);
  if (!client) clients.set(nc, (client = createRpcClient(nc)));
  return client;
}

/** A request from one service to another with the caller's metadata (`rpcClient(from.nc).request`). */
export function callService<T>(from: { nc: NatsConnection }, subject: string, body: unknown, meta: CommandMeta, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  return rpcClient(from.nc).request<T>(subject, { meta, body }, timeoutMs);
}

function createRpcClient(nc: NatsConnection): RpcClient {
  // nats.js buffers what is published while it reconnects and sends it after a later dial, or drops it: a
  // request made then could be delivered or not, so it is not made at all (SERVICE_UNAVAILABLE, nothing sent)
  let up = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) up = false;
      else if (s.type === Events.Reconnect) up = true;
    }
  })().catch(() => undefined);

  const observed = async <T>(subject: string, sending: () => Promise<T>): Promise<T> => {
    const sink = sinks.get(nc);
    if (!sink) return sending();
    const started = process.hrtime.bigint();
    const observe = (outcome: RpcOutcome) => sink.observe(subjectLabel(subject), Number(process.hrtime.bigint() - started) / 1e9, outcome);
    try {
      const reply = await sending();
      observe('ok');
      return reply;
    } catch (err) {
      const code = (err as DomainError).code;
      observe(!(err instanceof RpcFailure) ? 'error' : code === ErrorCode.OUTCOME_UNKNOWN ? 'unknown' : 'unavailable');
      throw err;
    }
  };

  return {
    request: <T>(subject: string, message: Message, timeoutMs = DEFAULT_TIMEOUT_MS) =>
      observed(subject, async () => responseOf<T>((await send(subject, message, timeoutMs))[0])),
    requestJson: (subject: string, message: Message, timeoutMs = DEFAULT_TIMEOUT_MS) =>
      observed(subject, async () => {
        const [data, id] = await send(subject, message, timeoutMs);
        return jsonResponseOf(data, id) ?? Buffer.from(JSON.stringify(responseOf(data)) ?? 'null');
      }),
  };

  /** the reply's bytes and the request's id */
  async function send(subject: string, message: Message, timeoutMs: number): Promise<[Uint8Array, string]> {
    if (!up || nc.isClosed() || nc.isDraining()) throw new RpcFailure(ErrorCode.SERVICE_UNAVAILABLE, 'the broker connection is down; nothing was sent');
    const id = randomUUID();
    try {
      const wire = namings.get(nc)?.subject(subject) ?? subject;
      const reply = await requesterOf(nc).request(wire, codec.encode({ pattern: wire, id, data: message }), { timeoutMs });
      return [await replyBytes(nc, namings.get(nc), reply), id];
    } catch (err) {
      throw failure(subject, err as NatsError);
    }
  }
}

/** The reply's response; an error reply thrown as a DomainError. */
function responseOf<T>(data: Uint8Array): T {
  const reply = codec.decode(data) as { response?: T; err?: unknown };
  if (reply.err !== undefined && reply.err !== null) {
    if (isErrorReply(reply.err)) throw new DomainError(reply.err.code, reply.err.message, reply.err.details);
    throw new DomainError(ErrorCode.INTERNAL, 'internal error');
  }
  return reply.response as T;
}

function failure(subject: string, err: NatsError): RpcFailure {
  if (err.code === NatsErrorCode.NoResponders)
    return new RpcFailure(ErrorCode.SERVICE_UNAVAILABLE, 'no instance of the service is listening; nothing was done');
  // sent (or possibly sent: a connection that broke after the publish): a command may have been applied
  if (isCommandSubject(subject))
    return new RpcFailure(ErrorCode.OUTCOME_UNKNOWN, 'the command was sent but its outcome is unknown: it may or may not have been applied');
  return new RpcFailure(ErrorCode.SERVICE_UNAVAILABLE, 'the service did not answer in time; nothing was changed');
}
