import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import { ConnectError, createLogger, MONGO_DB, NATS_CONNECTION, startService, type RunningService } from '@app/platform';
import { freePort, serviceTestConfig } from '@app/testing';

/**
 * A service's start against real FerretDB and NATS, and against addresses where nothing listens: the health
 * port opens first (alive, not ready), each failed connection gives one line naming the URL (password
 * masked) within seconds, and the service gives up after CONNECT_TIMEOUT_SECONDS with a ConnectError.
 */
@Module({})
class EmptyModule {}

/** What a view's provider finds when Nest stops it: the connections it was started on, still open. */
const atShutdown: Array<{ natsOpen: boolean; mongoAnswers: boolean }> = [];
@Injectable()
class ViewLike implements OnApplicationShutdown {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(MONGO_DB) private readonly db: Db,
  ) {}

  async onApplicationShutdown() {
    const mongoAnswers = await this.db.command({ ping: 1 }).then(
      () => true,
      () => false,
    );
    atShutdown.push({ natsOpen: !this.nc.isClosed() && !this.nc.isDraining(), mongoAnswers });
  }
}
@Module({ providers: [ViewLike] })
class ViewModule {}

const http = (port: number, path: string) =>
  fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) }).then(async (r) => ({ status: r.status, body: await r.text() }));

/** startService with its log lines captured. */
async function start(env: Record<string, string>) {
  const port = await freePort();
  const lines: string[] = [];
  const config = serviceTestConfig('authorization', { HTTP_PORT: String(port), ...env });
  const logger = createLogger('authorization', 'info', { write: (line: string) => lines.push(line) });
  const began = Date.now();
  const started = startService(config, EmptyModule, { logger });
  started.catch(() => undefined);
  const lineMatching = async (pattern: RegExp, timeoutMs: number): Promise<{ line: string; afterMs: number }> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = lines.find((l) => pattern.test(l));
      if (line) return { line, afterMs: Date.now() - began };
      if (Date.now() > deadline) throw new Error(`no log line ${pattern} within ${timeoutMs} ms:\n${lines.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { port, lines, started, lineMatching };
}

describe('service start-up (libs/platform)', () => {
  let running: RunningService | undefined;
  afterAll(async () => running?.close());

  it('NATS unreachable: the health port is alive and not ready, one clear line within seconds, then a ConnectError naming the URL', async () => {
    const deadPort = await freePort();
    const s = await start({ NATS_URL: `nats://127.0.0.1:${deadPort}`, CONNECT_TIMEOUT_SECONDS: '3' });

    const failed = await s.lineMatching(/cannot connect to NATS/, 5000);
    expect(failed.afterMs).toBeLessThan(4000);
    expect(JSON.parse(failed.line)).toMatchObject({
      level: 40,
      url: `nats://127.0.0.1:${deadPort}`,
      msg: expect.stringMatching(new RegExp(`^cannot connect to NATS at nats://127\\.0\\.0\\.1:${deadPort}: connection refused; retrying in [\\d.]+ s$`)),
    });
    expect(s.lines.some((l) => /connecting to MongoDB at mongodb:/.test(l))).toBe(true);
    expect(await http(s.port, '/health')).toEqual({ status: 200, body: JSON.stringify({ status: 'ok', service: 'authorization' }) });
    const ready = await http(s.port, '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ service: 'authorization', ok: false, status: 'starting' });

    const err = await s.started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(
      new RegExp(`^cannot connect to NATS at nats://127\\.0\\.0\\.1:${deadPort} \\(gave up after \\d+ s\\): connection refused$`),
    );
    // nothing left listening
    await expect(http(s.port, '/health')).rejects.toThrow();
  }, 20_000);

  it('MongoDB unreachable: the line names the URL with its password masked and the reason', async () => {
    const deadPort = await freePort();
    const s = await start({ MONGO_URL: `mongodb://app:s3cret-pw@127.0.0.1:${deadPort}/`, CONNECT_TIMEOUT_SECONDS: '4' });

    const failed = await s.lineMatching(/cannot connect to MongoDB/, 6000);
    expect(failed.afterMs).toBeLessThan(5000);
    expect(JSON.parse(failed.line).msg).toBe(
      `cannot connect to MongoDB at mongodb://app:***@127.0.0.1:${deadPort}/: connect ECONNREFUSED 127.0.0.1:${deadPort}; retrying in 0.5 s`,
    );
    const err = await s.started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toContain(`mongodb://app:***@127.0.0.1:${deadPort}/`);
    expect(s.lines.join('') + (err as Error).message).not.toContain('s3cret-pw');
  }, 20_000);

  it('connected: ready with its own checks, metrics served; close() ends readiness and the port', async () => {
    const s = await start({});
    running = await s.started;
    expect(running.port).toBe(s.port);
    const ready = await http(s.port, '/health/ready');
    expect([ready.status, JSON.parse(ready.body)]).toEqual([200, { service: 'authorization', ok: true, checks: { mongodb: 'up', nats: 'up' } }]);
    const metrics = await http(s.port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    expect(s.lines.some((l) => /"msg":"authorization ready"/.test(l))).toBe(true);
    // Nest's start-up chatter (modules, patterns mapped) stays at debug
    expect(s.lines.some((l) => /"context":"(InstanceLoader|NestMicroservice)"/.test(l))).toBe(false);

    await running.close();
    running = undefined;
    await expect(http(s.port, '/health')).rejects.toThrow();
  }, 30_000);

  it("close(): the providers' shutdown hooks run while NATS and MongoDB are still open (views stop before the connections close)", async () => {
    const service = await startService(serviceTestConfig('authorization'), ViewModule, {
      logger: createLogger('authorization', 'warn', { write: () => undefined }),
    });
    await service.close();
    expect(atShutdown).toEqual([{ natsOpen: true, mongoAnswers: true }]);
  });
});
