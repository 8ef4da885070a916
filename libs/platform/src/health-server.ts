import { createServer, type Server, type ServerResponse } from 'node:http';
import type { HealthReply } from '@app/contracts';

export interface HealthServer {
  port: number;
  /** From now on `/health/ready` answers with `check` (200 when ok, else 503) and `/metrics` with `metrics`. */
  serve(check: () => Promise<HealthReply>, metrics: () => Promise<string>): void;
  /** `/health/ready` answers 503 from now on (first step of a shutdown). */
  stopping(): void;
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8') => {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/**
 * A process's health port, opened before it connects to anything (docs/operations.md "Health"):
 * - `GET /health` (liveness): 200 while the process runs, whether or not it has connected;
 * - `GET /health/ready` (readiness): 503 `starting` until `serve()`, then the service's own check;
 * - `GET /metrics` (Prometheus): 503 until `serve()`.
 * A port in use fails at once, naming `portName`.
 */
/** A port that serves Prometheus metrics only: `GET /metrics`; anything else is a 404. */
export async function serveMetrics(port: number, metrics: () => Promise<string>, opts: { host?: string; portName?: string } = {}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics') return send(res, 404, { message: 'not found' });
    if (req.method !== 'GET') return send(res, 405, { message: 'GET only' });
    void metrics().then(
      (text) => send(res, 200, text, 'text/plain; version=0.0.4'),
      () => send(res, 500, { message: 'metrics failed' }),
    );
  });
  await listen(server, port, opts.host, opts.portName ?? 'METRICS_PORT');
  return { port: (server.address() as { port: number }).port, close: () => closeServer(server) };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host = '0.0.0.0', portName: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error(`${portName} ${port} is already in use`) : err));
    server.listen(port, host, () => resolve());
  });
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

const starting = (res: ServerResponse) => {
  res.writeHead(503, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', 'Retry-After': '1' });
  res.end(
    JSON.stringify({
      type: 'https://docs.people-platform.dev/problems/service-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'the gateway is starting; nothing was done, send the request again',
      code: 'SERVICE_UNAVAILABLE',
    }),
  );
};

/**
 * `api`: the port is the gateway's public one, opened early: a request to the API (`/api/…`) that reaches it
 * before the gateway serves is `503 SERVICE_UNAVAILABLE` (problem+json, `Retry-After: 1`; nothing was done, the
 * client sends it again, e.g. to another replica), not a 405 or 404 that would read as the API's own answer.
 */
export async function serveHealth(service: string, port: number, opts: { host?: string; portName?: string; api?: boolean } = {}): Promise<HealthServer> {
  let check: (() => Promise<HealthReply>) | undefined;
  let metrics: (() => Promise<string>) | undefined;
  let status = 'starting';
  const notReady = () => ({ service, ok: false, status, checks: {} });
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (opts.api && path.startsWith('/api/')) return starting(res);
    if (req.method !== 'GET') return send(res, 405, { message: 'GET only' });
    if (path === '/health') return send(res, 200, { status: 'ok', service });
    if (path === '/health/ready') {
      if (!check) return send(res, 503, notReady());
      return void check().then(
        (reply) => send(res, reply.ok ? 200 : 503, reply),
        () => send(res, 503, notReady()),
      );
    }
    if (path === '/metrics') {
      if (!metrics) return send(res, 503, notReady());
      return void metrics().then(
        (text) => send(res, 200, text, 'text/plain; version=0.0.4'),
        () => send(res, 500, { message: 'metrics failed' }),
      );
    }
    send(res, 404, { message: 'not found' });
  });
  await listen(server, port, opts.host, opts.portName ?? 'HTTP_PORT');
  return {
    port: (server.address() as { port: number }).port,
    serve(c, m) {
      check = c;
      metrics = m;
      status = 'started';
    },
    stopping() {
      check = undefined;
      status = 'stopping';
    },
    close: () => closeServer(server),
  };
}
