import type { ArgumentsHost } from '@nestjs/common';
import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { ErrorCode as NatsErrorCode, NatsError } from 'nats';
import { lastValueFrom } from 'rxjs';
import { DomainError, ErrorCode } from '@app/contracts';
import { DomainErrorFilter } from './rpc';

/** A handler's error as the filter replies to it, for a message on `subject` (the subject as the code names it). */
async function replyOf(err: unknown, subject: string, log?: (err: unknown, subject: string | undefined) => void): Promise<unknown> {
  const host = { getType: () => 'rpc', switchToRpc: () => ({ getContext: () => ({ getSubject: () => subject }) }) } as unknown as ArgumentsHost;
  return lastValueFrom(new DomainErrorFilter(log).catch(err, host)).catch((reply: unknown) => reply);
}

const command = 'cmd.membership.organization.create-accounts';
const query = 'qry.authorization.check';

describe('DomainErrorFilter: a broker or database failure is a 503, a bug a 500', () => {
  // what a JetStream API call (stream info, publish) or a request throws while a node is killed or a leader elected
  const brokerFailures = [
    NatsError.errorForCode(NatsErrorCode.Timeout),
    NatsError.errorForCode(NatsErrorCode.NoResponders), // also JetStream's "503": no leader / temporarily unavailable
    new NatsError('request timeout', NatsErrorCode.JetStream408RequestTimeout),
    NatsError.errorForCode(NatsErrorCode.ConnectionClosed),
    NatsError.errorForCode(NatsErrorCode.Disconnect),
  ];
  // what the MongoDB driver throws while the database or its primary is away
  const databaseFailures = [
    new MongoNetworkError('connection reset'),
    new MongoServerSelectionError('server selection timed out', { error: undefined } as never),
    new MongoServerError({ message: 'not primary', code: 10107, errorLabels: ['RetryableWriteError'] }),
  ];

  it.each([...brokerFailures, ...databaseFailures].map((e) => [`${e.name} ${(e as { code?: unknown }).code ?? ''}`, e]))(
    '%s: SERVICE_UNAVAILABLE for a query (nothing done), OUTCOME_UNKNOWN for a command (it may have written part)',
    async (_name, err) => {
      expect(await replyOf(err, query)).toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE });
      expect(await replyOf(err, command)).toMatchObject({ code: ErrorCode.OUTCOME_UNKNOWN });
    },
  );

  it('a bug, or a broker or database error that a retry cannot cure, stays INTERNAL without its message', async () => {
    for (const err of [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new NatsError('stream not found', NatsErrorCode.JetStream404NoMessages),
      NatsError.errorForCode(NatsErrorCode.MaxPayloadExceeded),
      new MongoServerError({ message: 'E11000 duplicate key', code: 11000 }),
      'a string',
    ]) {
      expect([String(err), await replyOf(err, query)]).toEqual([String(err), { code: ErrorCode.INTERNAL, message: 'internal error' }]);
      expect(await replyOf(err, command)).toEqual({ code: ErrorCode.INTERNAL, message: 'internal error' });
    }
  });

  it('logs the unexpected error with the subject of the message whose handler threw it', async () => {
    const logged: unknown[] = [];
    const timeout = NatsError.errorForCode(NatsErrorCode.Timeout);
    await replyOf(timeout, command, (err, subject) => logged.push([err, subject]));
    expect(logged).toEqual([[timeout, command]]);
  });

  it("a DomainError keeps its code (the handler's own refusal, or another service's 503 passed on)", async () => {
    expect(await replyOf(new DomainError(ErrorCode.SLUG_TAKEN, 'taken'), command)).toMatchObject({ code: ErrorCode.SLUG_TAKEN });
    expect(await replyOf(new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'down'), command)).toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE });
  });
});
