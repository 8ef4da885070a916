import { randomUUID } from 'node:crypto';
import { ErrorCode as NatsErrorCode, Events, JSONCodec, type NatsConnection, type NatsError } from 'nats';
import { DomainError, ErrorCode, isErrorReply, subjectPrefix, type CommandMeta, type Message } from '@app/contracts';

/**
 * The request itself failed (not a service's error reply): `SERVICE_UNAVAILABLE` when nothing was done — not
 * sent (the broker connection was down), no instance listens (the broker answers "no responders" at once), or a
 * query got no answer — and `OUTCOME_UNKNOWN` when a command was sent and no answer came back in time, so it
 * may or may not have been applied (docs/idempotency.md).
 */
export class RpcFailure extends DomainError {}

export interface RpcClient {
  /**
   * Sends `{ meta, body }` to `subject` (the @nestjs/microservices NATS wire format) and returns the reply. An
   * error reply is thrown as a DomainError with its code, message and details unchanged; a failure of the
   * request as an `RpcFailure`.
   */
  request<T>(subject: string, message: Message, timeoutMs?: number): Promise<T>;
}

const codec = JSONCodec();
const DEFAULT_TIMEOUT_MS = 10_000;
const clients = new WeakMap<NatsConnection, RpcClient>();

export const isCommandSubject = (subject: string): boolean => subject.startsWith(`${subjectPrefix()}cmd.`);

/** The request/reply client of a connection (one per connection). */
export function rpcClient(nc: NatsConnection): RpcClient {
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

  return {
    async request<T>(subject: string, message: Message, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
      if (!up || nc.isClosed() || nc.isDraining()) throw new RpcFailure(ErrorCode.SERVICE_UNAVAILABLE, 'the broker connection is down; nothing was sent');
      let data: Uint8Array;
      try {
        data = (await nc.request(subject, codec.encode({ pattern: subject, id: randomUUID(), data: message }), { timeout: timeoutMs })).data;
      } catch (err) {
        throw failure(subject, err as NatsError);
      }
      const reply = codec.decode(data) as { response?: T; err?: unknown };
      if (reply.err !== undefined && reply.err !== null) {
        if (isErrorReply(reply.err)) throw new DomainError(reply.err.code, reply.err.message, reply.err.details);
        throw new DomainError(ErrorCode.INTERNAL, 'internal error');
      }
      return reply.response as T;
    },
  };
}

function failure(subject: string, err: NatsError): RpcFailure {
  if (err.code === NatsErrorCode.NoResponders)
    return new RpcFailure(ErrorCode.SERVICE_UNAVAILABLE, 'no instance of the service is listening; nothing was done');
  // sent (or possibly sent: a connection that broke after the publish): a command may have been applied
  if (isCommandSubject(subject))
    return new RpcFailure(ErrorCode.OUTCOME_UNKNOWN, 'the command was sent but its outcome is unknown: it may or may not have been applied');
  return new RpcFailure(ErrorCode.SERVICE_UNAVAILABLE, 'the service did not answer in time; nothing was changed');
}
