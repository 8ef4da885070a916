import type { ArgumentsHost } from '@nestjs/common';
import pino from 'pino';
import { REDACTED_PATHS } from '@app/platform';
import { ProblemFilter } from './problem.filter';
import { outcomeUnknown } from './service-error';

/** 503 OUTCOME_UNKNOWN hands the client its Idempotency-Key; the key decrypts what is stored under it, so no log line holds it. */
describe('OUTCOME_UNKNOWN', () => {
  const key = 'c0ffee00-key-to-retry-with';
  const logged: string[] = [];
  const logger = pino({ level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, { write: (line: string) => logged.push(line) });
  beforeEach(() => (logged.length = 0));

  it('is a 503 problem with the key in the body, and the error log line does not hold the key', () => {
    const sent: { status?: number; body?: Record<string, unknown>; headers: Record<string, string> } = { headers: {} };
    // the part of Fastify's reply the filter uses
    const res = {
      header: (name: string, value: string) => ((sent.headers[name] = value), res),
      status: (s: number) => ((sent.status = s), res),
      send: (b: string) => ((sent.body = JSON.parse(b) as Record<string, unknown>), res),
    };
    const host = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({ ctx: { requestId: 'r-1' } }) }) } as unknown as ArgumentsHost;
    new ProblemFilter(logger).catch(outcomeUnknown(key), host);
    expect(sent.status).toBe(503);
    expect(sent.headers).toEqual({ 'Retry-After': '1', 'Content-Type': 'application/problem+json; charset=utf-8' });
    expect(sent.body).toMatchObject({
      status: 503,
      code: 'OUTCOME_UNKNOWN',
      idempotencyKey: key,
      detail: expect.stringMatching(/may or may not have been applied/),
    });
    expect(logged.join('\n')).toContain('OUTCOME_UNKNOWN');
    expect(logged.join('\n')).not.toContain(key);
  });

  it('the Idempotency-Key request and response headers are redacted from the HTTP log', () => {
    logger.info({ req: { headers: { 'idempotency-key': key } }, res: { statusCode: 503, headers: { 'idempotency-key': key } } }, 'request errored');
    expect(logged.join('\n')).toContain('request errored');
    expect(logged.join('\n')).not.toContain(key);
  });
});
