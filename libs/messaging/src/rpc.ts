import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException, type NatsContext } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { DomainError, ErrorCode, type ErrorReply } from '@app/contracts';
import { isCommandSubject } from './rpc-client';

/** NATS errors of a broker that is briefly unavailable: a timeout, no responders or JetStream without a leader (503), a connection lost. */
const TRANSIENT_NATS = new Set([
  'TIMEOUT',
  '408',
  '503',
  'DISCONNECT',
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  'REQUEST_ERROR',
]);
/** MongoDB driver errors of a database that is briefly unavailable (network, no server selectable, a primary stepping down) */
const TRANSIENT_MONGO = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/**
 * An error of the broker or the database that a retry can get past (they are told by name and code, so this
 * library needs neither driver), as opposed to a bug.
 */
export function isTransientFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code, errorLabels } = err as { code?: unknown; errorLabels?: unknown };
  if (err.name === 'NatsError') return TRANSIENT_NATS.has(String(code));
  return TRANSIENT_MONGO.has(err.name) || (Array.isArray(errorLabels) && errorLabels.includes('RetryableWriteError'));
}

/**
 * The reply to a handler's unexpected error: a transient failure of the broker or the database is a 503 —
 * `SERVICE_UNAVAILABLE` (nothing was done) for a query, `OUTCOME_UNKNOWN` for a command, which may have written
 * part of its work before it failed (the retry with the same command id finishes it, docs/idempotency.md) —
 * and anything else `INTERNAL`, without its message, so nothing internal (or secret) leaks to the caller.
 */
export function unexpectedErrorReply(err: unknown, subject: string | undefined): ErrorReply {
  if (!isTransientFailure(err)) return { code: ErrorCode.INTERNAL, message: 'internal error' };
  if (subject !== undefined && isCommandSubject(subject))
    return { code: ErrorCode.OUTCOME_UNKNOWN, message: 'the broker or the database failed during the command: it may or may not have been applied' };
  return { code: ErrorCode.SERVICE_UNAVAILABLE, message: 'the broker or the database is briefly unavailable; nothing was changed' };
}

/**
 * Turns whatever a message handler throws into an ErrorReply with a stable code: a DomainError keeps its own,
 * anything else gets `unexpectedErrorReply`'s (and is logged).
 */
@Catch()
export class DomainErrorFilter implements RpcExceptionFilter<unknown> {
  /** `log` gets the error and the subject of the message whose handler threw it (a NATS error's stack does not name the handler) */
  constructor(private readonly log?: (err: unknown, subject: string | undefined) => void) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    if (exception instanceof DomainError) return throwError(() => exception.toReply());
    if (exception instanceof RpcException) return throwError(() => exception.getError());
    const subject = host.getType() === 'rpc' ? host.switchToRpc().getContext<NatsContext | undefined>()?.getSubject?.() : undefined;
    this.log?.(exception, subject);
    return throwError(() => unexpectedErrorReply(exception, subject));
  }
}
