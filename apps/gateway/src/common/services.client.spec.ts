import { cmdSubject, DomainError, qrySubject } from '@app/contracts';
import { RpcFailure, type RpcClient } from '@app/messaging';
import type { GatewayRequest } from './request-context';
import { ServicesClient } from './services.client';
import { ServiceError } from './service-error';

/**
 * What the gateway makes of the RPC client's outcomes (the client itself is tested against a real broker in
 * libs/messaging): a failure never says "nothing was done" once a command of the request may have been applied.
 */
describe('ServicesClient: the outcome of a request', () => {
  const key = 'retry-with-this-key';
  const command = cmdSubject('membership', 'organization', 'create');
  const query = qrySubject('membership', 'get-organization');
  const request = (): GatewayRequest => ({ ctx: { requestId: 'r-1', ip: '', medium: 'api', idempotencyKey: key } }) as GatewayRequest;
  /** an RPC client whose outcomes are given in order (a value is the reply, an Error is thrown) */
  const client = (...outcomes: unknown[]) => {
    const next = async () => (outcomes[0] instanceof Error ? Promise.reject(outcomes.shift()) : outcomes.shift());
    return new ServicesClient({ request: next, requestJson: next } as RpcClient, { SERVICE_REQUEST_TIMEOUT_MS: 100 });
  };
  const failureOf = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: ServiceError) => ({ ...e.reply, details: e.reply.details }),
    );

  it("an error reply passes through with its code and details; the request's first failure to deliver is SERVICE_UNAVAILABLE", async () => {
    const services = client(new DomainError('SLUG_TAKEN', 'taken', { slug: 'x' }), new RpcFailure('SERVICE_UNAVAILABLE', 'no responders'));
    expect(await failureOf(services.call(command, {}, request()))).toMatchObject({ code: 'SLUG_TAKEN', details: { slug: 'x' } });
    expect(await failureOf(services.call(command, {}, request()))).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('a command not answered in time, or any failure after a command of the request was sent: OUTCOME_UNKNOWN with the key', async () => {
    expect(await failureOf(client(new RpcFailure('OUTCOME_UNKNOWN', 'timeout')).call(command, {}, request()))).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      details: { idempotencyKey: key },
    });
    const req = request();
    const services = client({ id: 'org-1' }, new RpcFailure('SERVICE_UNAVAILABLE', 'query timed out'));
    await services.call(command, {}, req);
    expect(await failureOf(services.call(query, {}, req))).toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { idempotencyKey: key } });
  });

  it("a service's own OUTCOME_UNKNOWN (its command to another service went unanswered) reaches the client with the key to retry with", async () => {
    const req = request();
    const reply = new DomainError('OUTCOME_UNKNOWN', 'identity did not answer');
    expect(await failureOf(client(reply).call(command, {}, req))).toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { idempotencyKey: key } });
    expect(req.ctx.commandSent).toBe(true);
  });
});
