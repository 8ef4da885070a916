/**
 * bench/http-server/access-log-line: the CPU one access log line costs, measured alone (no HTTP, no load on
 * the machine's network), so that it can be compared with what a whole request costs the gateway
 * (bench/http-server/access-log.ts prints its CPU ms per request). Writes to /dev/null, synchronously, as
 * the gateway writes to stdout. Compares:
 * - `pino-http`: the middleware the gateway used until now, given Node's request and response (child loggers
 *   with the request serialised, its headers included, then the line when the response finishes);
 * - `onResponse`: the gateway's `accessLog` (gateway.app.ts), one `logger.info` with a few fields;
 * each at LOG_LEVEL=info and at warn (the line off).
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/http-server/access-log-line.ts [iterations=20000]
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import pino from 'pino';
import pinoHttp from 'pino-http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLogger } from '@app/platform';
import { accessLog } from '../../apps/gateway/src/gateway.app';

const HEADERS = {
  host: '127.0.0.1:3000',
  'user-agent': 'curl/8.5.0',
  accept: 'application/json',
  authorization: 'Bearer ppt_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567',
  'x-request-id': '6f1c2b9e-8d7a-4e3b-9c1d-2a3b4c5d6e7f',
  connection: 'keep-alive',
};
const URL = '/api/v1/organizations/6f1c2b9e-8d7a-4e3b-9c1d-2a3b4c5d6e7f/people?limit=20';

function cpuPerOp(n: number, op: (i: number) => void): number {
  for (let i = 0; i < Math.min(2000, n); i++) op(i); // warm-up
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) op(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n; // µs
}

function pinoHttpOp(level: string) {
  const logger = createLogger('gateway', level, pino.destination({ dest: '/dev/null', sync: true }));
  const middleware = pinoHttp({
    logger,
    customProps: (req) => ({ requestId: req.id }),
    autoLogging: { ignore: (req) => req.url === '/metrics' || /^\/health(\/ready|\/serving)?$/.test(req.url ?? '') },
  });
  return (i: number) => {
    const req = new IncomingMessage(new Socket());
    Object.assign(req, { method: 'GET', url: URL, headers: HEADERS, id: `r${i}`, query: { limit: '20' } });
    const res = new ServerResponse(req);
    res.statusCode = 200;
    middleware(req, res);
    res.emit('finish');
  };
}

function onResponseOp(level: string) {
  const log = accessLog(createLogger('gateway', level, pino.destination({ dest: '/dev/null', sync: true })));
  return (i: number) => {
    const request = { method: 'GET', url: URL, headers: HEADERS, ctx: { requestId: `r${i}` } } as unknown as FastifyRequest;
    const reply = { statusCode: 200, elapsedTime: 3.2 } as unknown as FastifyReply;
    log(request, reply);
  };
}

function main() {
  const n = Number(process.argv[2] ?? 20000);
  process.stdout.write(`bench/http-server/access-log-line: CPU µs per request of the access log alone, ${n} requests each (median of 3)\n\n`);
  const median3 = (f: () => number) => [f(), f(), f()].sort((a, b) => a - b)[1];
  for (const [name, make] of [
    ['pino-http', pinoHttpOp],
    ['onResponse', onResponseOp],
  ] as const)
    for (const level of ['info', 'warn']) {
      const op = make(level);
      process.stdout.write(
        `${name.padEnd(12)}LOG_LEVEL=${level.padEnd(6)}${median3(() => cpuPerOp(n, op))
          .toFixed(1)
          .padStart(8)} µs\n`,
      );
    }
}

main();
