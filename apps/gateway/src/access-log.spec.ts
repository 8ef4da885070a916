import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLogger } from '@app/platform';
import { accessLog } from './gateway.app';

/** The access log line (gateway.app.ts `accessLog`, docs/operations.md "Access logs and their cost"). */
describe('access log', () => {
  const TOKEN = 'ppt_s3cret-token-0123456789abcdef';
  const request = (url: string) =>
    ({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}`, cookie: 'sid=s3cret' }, ctx: { requestId: 'req-1' } }) as unknown as FastifyRequest;
  const reply = { statusCode: 200, elapsedTime: 12.6 } as unknown as FastifyReply;
  const linesAt = (level: string) => {
    const lines: string[] = [];
    return { lines, log: accessLog(createLogger('gateway', level, { write: (line: string) => lines.push(line) })) };
  };

  it('one line per request with the request id, method, redacted URL, status and time; no header, no query object', () => {
    const { lines, log } = linesAt('info');
    log(request('/api/v1/me?access_token=s3cret-1&limit=5&Password=s3cret-2'), reply);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/s3cret/);
    const { level, time: _time, ...line } = JSON.parse(lines[0]);
    expect(level).toBe(30);
    expect(line).toEqual({
      service: 'gateway',
      requestId: 'req-1',
      req: { method: 'GET', url: '/api/v1/me?access_token=[redacted]&limit=5&Password=[redacted]' },
      res: { statusCode: 200 },
      responseTime: 13,
      msg: 'request completed',
    });
  });

  it('probes are not logged (a request for /metrics on the public port, a 404 there, is); at warn nothing is', () => {
    const info = linesAt('info');
    for (const url of ['/health', '/health/ready', '/health/serving']) info.log(request(url), reply);
    expect(info.lines).toEqual([]);
    info.log(request('/metrics'), reply);
    expect(info.lines).toHaveLength(1);
    const warn = linesAt('warn');
    warn.log(request('/api/v1/me'), reply);
    expect(warn.lines).toEqual([]);
  });
});
