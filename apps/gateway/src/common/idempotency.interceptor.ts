import { BadRequestException, ConflictException, HttpStatus, Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { Response } from 'express';
import type { KV } from 'nats';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { ErrorCode } from '@app/contracts';
import type { GatewayRequest } from './request-context';
import {
  fingerprintOf,
  IDEMPOTENCY_KEY_PATTERN,
  openResponse,
  PENDING_TAKEOVER_MS,
  recordKey,
  sealResponse,
  type IdempotencyRecord,
} from './idempotency';

export const IDEMPOTENCY_KV = Symbol('IDEMPOTENCY_KV');
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const encode = (r: IdempotencyRecord) => new TextEncoder().encode(JSON.stringify(r));
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as IdempotencyRecord;

/**
 * `Idempotency-Key` on a write: the first request runs and its response is kept 24 h (NATS KV, shared by
 * every gateway replica); a repeat with the same key and the same request gets that response back with
 * `Idempotent-Replayed: true` and changes nothing. The same key on another request is 400; while the
 * first is still running, 409 CONCURRENT_MODIFICATION. A request that fails keeps no record, so the client
 * can retry it. Commands sent under a key get ids derived from it (ServicesClient), so even a retry after
 * a gateway crash cannot apply a command twice.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@Inject(IDEMPOTENCY_KV) private readonly kv: KV) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<GatewayRequest>();
    const header = req.headers['idempotency-key'];
    if (!WRITES.has(req.method) || header === undefined) return next.handle();
    if (typeof header !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(header))
      throw new BadRequestException({
        code: ErrorCode.VALIDATION_FAILED,
        message: 'Idempotency-Key must be 1 to 200 visible ASCII characters',
        errors: [{ field: 'Idempotency-Key', message: 'must be 1 to 200 visible ASCII characters' }],
      });
    const status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ??
      (req.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return from(this.run(req, http.getResponse<Response>(), header, status, next));
  }

  private async run(req: GatewayRequest, res: Response, key: string, status: number, next: CallHandler): Promise<unknown> {
    const kv = this.kv;
    const scope = req.user?.userId ?? 'anonymous';
    const id = recordKey(scope, key);
    const fingerprint = fingerprintOf(req.method, req.originalUrl, req.body);
    const startedAt = Date.now();
    const pending = encode({ state: 'pending', fingerprint, startedAt });

    const claimed = await kv.create(id, pending).then(
      () => true,
      () => false,
    );
    if (!claimed) {
      const entry = await kv.get(id);
      const record = entry && entry.operation === 'PUT' ? decode(entry.value) : undefined;
      if (record && record.fingerprint !== fingerprint)
        throw new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message: 'this Idempotency-Key was used for a different request' });
      if (record?.state === 'done') {
        res.status(record.status).setHeader('Idempotent-Replayed', 'true');
        return openResponse(scope, key, record);
      }
      const abandoned = !record || Date.now() - record.startedAt > PENDING_TAKEOVER_MS;
      const tookOver = abandoned && entry ? await kv.update(id, pending, entry.revision).then(() => true, () => false) : false;
      if (!tookOver) throw new ConflictException({ code: ErrorCode.CONCURRENT_MODIFICATION, message: 'a request with this Idempotency-Key is still running' });
    }

    req.ctx.idempotencyKey = key;
    let body: unknown;
    try {
      body = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      await kv.delete(id).catch(() => undefined);
      throw err;
    }
    await kv.put(id, encode(sealResponse(scope, key, fingerprint, startedAt, status, body)));
    return body;
  }
}
