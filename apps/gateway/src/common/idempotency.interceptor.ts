import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { FastifyReply } from 'fastify';
import type { KV } from 'nats';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { ErrorCode } from '@app/contracts';
import type { GatewayRequest } from './request-context';
import { ServiceError, serviceUnavailable } from './service-error';
import { fingerprintOf, HEARTBEAT_MS, IDEMPOTENCY_KEY_PATTERN, openResponse, recordKey, sealResponse, verdict, type IdempotencyRecord } from './idempotency';

export const IDEMPOTENCY_KV = Symbol('IDEMPOTENCY_KV');
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const encode = (r: IdempotencyRecord) => new TextEncoder().encode(JSON.stringify(r));
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as IdempotencyRecord;
const isOutcomeUnknown = (err: unknown) => err instanceof ServiceError && err.reply.code === ErrorCode.OUTCOME_UNKNOWN;
const stillRunning = () => new ConflictException({ code: ErrorCode.CONCURRENT_MODIFICATION, message: 'a request with this Idempotency-Key is still running' });

/**
 * `Idempotency-Key` on a write: the first request runs and its response is kept 24 h (NATS KV, shared by
 * every gateway replica); a repeat with the same key and the same request gets that response back with
 * `Idempotent-Replayed: true` and changes nothing. The same key on another request is 400; while the
 * first is still running (its holder renews a short lease), 409 CONCURRENT_MODIFICATION. A request that
 * fails keeps no record, so the client can retry it; one that ends in 503 OUTCOME_UNKNOWN keeps it, so the
 * retry continues it. A write without a key gets a random one. Commands sent under a key get ids derived
 * from it (ServicesClient), so no retry can apply a command twice. docs/idempotency.md.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@Inject(IDEMPOTENCY_KV) private readonly kv: KV) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<GatewayRequest>();
    if (!WRITES.has(req.method)) return next.handle();
    const header = req.headers['idempotency-key'];
    if (header !== undefined && (typeof header !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(header)))
      throw new BadRequestException({
        code: ErrorCode.VALIDATION_FAILED,
        message: 'Idempotency-Key must be 1 to 200 visible ASCII characters',
        errors: [{ field: 'Idempotency-Key', message: 'must be 1 to 200 visible ASCII characters' }],
      });
    if (header === undefined) return from(this.runWithGeneratedKey(req, http.getResponse<FastifyReply>(), next));
    const status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ?? (req.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return from(this.run(req, http.getResponse<FastifyReply>(), header, status, next));
  }

  /**
   * No key: a random one for this request, so that its commands have ids a retry can reuse. Nobody else
   * knows it, so nothing is recorded up front; the client learns it only with OUTCOME_UNKNOWN, and then it
   * is recorded as if the client had sent it. Should that write fail too, the retry runs afresh with the
   * same command ids, which the services answer with their first outcome.
   */
  private async runWithGeneratedKey(req: GatewayRequest, res: FastifyReply, next: CallHandler): Promise<unknown> {
    const key = randomUUID();
    req.ctx.idempotencyKey = key;
    try {
      return await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      if (isOutcomeUnknown(err)) {
        res.header('Idempotency-Key', key);
        const record: IdempotencyRecord = { state: 'unknown', fingerprint: fingerprintOf(req.method, req.originalUrl, req.body), startedAt: Date.now() };
        await this.kv.create(recordKey(req.user?.userId ?? 'anonymous', key), encode(record)).catch(() => undefined);
      }
      throw err;
    }
  }

  private async run(req: GatewayRequest, res: FastifyReply, key: string, status: number, next: CallHandler): Promise<unknown> {
    const kv = this.kv;
    const scope = req.user?.userId ?? 'anonymous';
    const id = recordKey(scope, key);
    const fingerprint = fingerprintOf(req.method, req.originalUrl, req.body);
    const startedAt = Date.now();
    const owner = randomUUID();
    const pending = () => encode({ state: 'pending', fingerprint, startedAt, owner, renewedAt: Date.now() });

    const claim = await this.claim(id, fingerprint, owner, pending).catch((err: unknown) => {
      if (err instanceof HttpException) throw err;
      throw serviceUnavailable('the idempotency store did not answer; nothing was changed');
    });
    if ('replay' in claim) {
      res.status(claim.replay.status).header('Idempotent-Replayed', 'true');
      return openResponse(scope, key, claim.replay);
    }

    req.ctx.idempotencyKey = key;
    const lease = keepAlive(kv, id, claim.revision, pending, owner);
    let body: unknown;
    try {
      body = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      const revision = await lease.stop();
      if (isOutcomeUnknown(err)) {
        res.header('Idempotency-Key', key);
        await kv.put(id, encode({ state: 'unknown', fingerprint, startedAt })).catch(() => undefined);
      } else {
        await kv.delete(id, { previousSeq: revision }).catch(() => undefined);
      }
      throw err;
    }
    await lease.stop();
    // the change is made, so it is answered even if the record cannot be stored: the pending record then
    // lapses, and a retry runs again with the same command ids, which the services answer as the first time
    await kv.put(id, encode(sealResponse(scope, key, fingerprint, startedAt, status, body))).catch(() => undefined);
    return body;
  }

  /** The key's record for this attempt: its revision once claimed, or the stored response to replay. */
  private async claim(
    id: string,
    fingerprint: string,
    owner: string,
    pending: () => Uint8Array,
  ): Promise<{ revision: number } | { replay: Extract<IdempotencyRecord, { state: 'done' }> }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const created = await this.kv.create(id, pending()).catch(() => undefined);
      if (created) return { revision: created };
      // taken, or the broker's answer was lost (then the record may be our own claim)
      const entry = await this.kv.get(id);
      const record = entry?.operation === 'PUT' ? decode(entry.value) : undefined;
      switch (verdict(record, fingerprint, owner, Date.now())) {
        case 'mismatch':
          throw new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message: 'this Idempotency-Key was used for a different request' });
        case 'replay':
          return { replay: record as Extract<IdempotencyRecord, { state: 'done' }> };
        case 'busy':
          throw stillRunning();
        case 'continue':
          return { revision: entry!.revision };
        case 'take': {
          const revision = entry ? await this.kv.update(id, pending(), entry.revision).catch(() => undefined) : undefined;
          if (revision) return { revision };
        }
      }
    }
    throw stillRunning();
  }
}

/**
 * The lease of a running request: its pending record is renewed every HEARTBEAT_MS, so that a record whose
 * holder died lapses within LEASE_MS. `stop` waits for a renewal in flight and returns the latest revision.
 */
function keepAlive(kv: KV, id: string, revision: number, pending: () => Uint8Array, owner: string) {
  let inFlight: Promise<void> | undefined;
  const renew = async () => {
    try {
      revision = await kv.update(id, pending(), revision);
    } catch {
      // a renewal written although its answer was lost is still ours; a record taken over is not
      const entry = await kv.get(id).catch(() => null);
      const record = entry?.operation === 'PUT' ? decode(entry.value) : undefined;
      if (record?.state === 'pending' && record.owner === owner) revision = entry!.revision;
      else if (entry) clearInterval(timer);
    }
  };
  const timer = setInterval(() => (inFlight ??= renew().finally(() => (inFlight = undefined))), HEARTBEAT_MS);
  timer.unref();
  return {
    async stop(): Promise<number> {
      clearInterval(timer);
      await inFlight;
      return revision;
    },
  };
}
