import { randomUUID } from 'node:crypto';
import { JSONCodec } from 'nats';
import { DomainError, ErrorCode, isErrorReply, type CommandMeta } from '@app/contracts';
import type { Infrastructure } from '@app/platform';

const codec = JSONCodec();

/**
 * A request to another service in the @nestjs/microservices NATS wire format (`{ pattern, data, id }` →
 * `{ response | err }`). Error replies come back as DomainErrors with their code unchanged; no answer is
 * SERVICE_UNAVAILABLE.
 */
export async function callService<T>(infra: Pick<Infrastructure, 'nc'>, subject: string, body: unknown, meta: CommandMeta, timeoutMs = 10_000): Promise<T> {
  let raw: Uint8Array;
  try {
    const msg = await infra.nc.request(subject, codec.encode({ pattern: subject, id: randomUUID(), data: { meta, body } }), { timeout: timeoutMs });
    raw = msg.data;
  } catch {
    throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'a service did not answer in time');
  }
  const decoded = codec.decode(raw) as { response?: T; err?: unknown };
  if (decoded.err !== undefined && decoded.err !== null) {
    if (isErrorReply(decoded.err)) throw new DomainError(decoded.err.code, decoded.err.message, decoded.err.details);
    throw new DomainError(ErrorCode.INTERNAL, 'internal error');
  }
  return decoded.response as T;
}
