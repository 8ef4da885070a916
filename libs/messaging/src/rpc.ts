import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { DomainError, ErrorCode, type ErrorReply } from '@app/contracts';

/**
 * Turns whatever a message handler throws into an ErrorReply with a stable code. Unexpected errors become
 * INTERNAL without their message, so nothing internal (or secret) leaks to the caller.
 */
@Catch()
export class DomainErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly log?: (err: unknown) => void) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (exception instanceof DomainError) return throwError(() => exception.toReply());
    if (exception instanceof RpcException) return throwError(() => exception.getError());
    this.log?.(exception);
    const reply: ErrorReply = { code: ErrorCode.INTERNAL, message: 'internal error' };
    return throwError(() => reply);
  }
}
