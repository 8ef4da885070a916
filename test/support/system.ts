import { createServer } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import type { DynamicModule, Type } from '@nestjs/common';
import { SERVICES, type ServiceName } from '@app/contracts';
import { createLogger, loadConfig, startService, type RunningService } from '@app/platform';
import { serviceTestEnv, requireInfraEnv } from '@app/testing';
import { IdentityModule } from '../../apps/identity/src/identity.module';
import { MembershipModule } from '../../apps/membership/src/membership.module';
import { AuthorizationModule } from '../../apps/authorization/src/authorization.module';
import { AuditLogModule } from '../../apps/audit-log/src/audit-log.module';
import { createGatewayApp } from '../../apps/gateway/src/gateway.app';

export const BOOTSTRAP_EMAIL = 'admin@example.com';
export const BOOTSTRAP_TOKEN = 'ppt_bootstrap-token-for-tests-0123456789';

/** each service's module (a new one per start: replicas in this process get their own) */
const MODULES: Record<Exclude<ServiceName, 'gateway'>, () => DynamicModule | Type<unknown>> = {
  identity: () => IdentityModule,
  membership: () => MembershipModule,
  authorization: () => AuthorizationModule.register(),
  'audit-log': () => AuditLogModule,
};

export interface RunningSystem {
  baseUrl: string;
  /** the gateway's metrics port (METRICS_PORT), e.g. `${metricsUrl}/metrics` */
  metricsUrl: string;
  gateway: INestApplication;
  services: Record<string, RunningService>;
  startService(name: Exclude<ServiceName, 'gateway'>): Promise<RunningService>;
  stopService(name: Exclude<ServiceName, 'gateway'>): Promise<void>;
  /** Another gateway on a free port (with `env` on top of the system's), closed by `close()`; its base URL. */
  addGateway(env?: Record<string, string>): Promise<string>;
  /** Another replica of a service, in the same database and namespace, closed by `close()`. */
  addReplica(name: Exclude<ServiceName, 'gateway'>): Promise<RunningService>;
  close(): Promise<void>;
}

/**
 * The whole product in this test process: the four services (each with its own test database, in this
 * file's NATS namespace) and the gateway on a free port, talking over real NATS JetStream and FerretDB.
 */
export async function startSystem(env: Record<string, string> = {}, opts: { logLines?: string[] } = {}): Promise<RunningSystem> {
  const envFor = (service: ServiceName) => serviceTestEnv(service, { BOOTSTRAP_ADMIN_EMAIL: BOOTSTRAP_EMAIL, BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP_TOKEN, ...env });
  // `logLines`: every log line of the services and gateways (at their LOG_LEVEL) is kept there, e.g. to scan for secrets
  const sink = opts.logLines ? { write: (line: string) => void opts.logLines!.push(line) } : undefined;
  const loggerFor = (service: ServiceName, level: string) => (sink ? createLogger(service, level, sink) : undefined);
  const services: Record<string, RunningService> = {};
  const start = async (name: Exclude<ServiceName, 'gateway'>) => {
    const config = loadConfig(name, envFor(name));
    return (services[name] = await startService(config, MODULES[name](), { logger: loggerFor(name, config.LOG_LEVEL) }));
  };
  for (const name of SERVICES) await start(name as Exclude<ServiceName, 'gateway'>);

  const { natsUrl } = requireInfraEnv();
  const extra: Array<{ close(): Promise<unknown> }> = [];
  const startGateway = async (more: Record<string, string> = {}) => {
    const metricsPort = String(await freePort());
    const config = loadConfig('gateway', { ...envFor('gateway'), NATS_URL: natsUrl, GATEWAY_PORT: '0', METRICS_PORT: metricsPort, ...more });
    const app = await createGatewayApp(config, loggerFor('gateway', config.LOG_LEVEL));
    await app.listen(0, '127.0.0.1');
    return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`, metricsUrl: `http://127.0.0.1:${metricsPort}` };
  };
  const { app: gateway, url: baseUrl, metricsUrl } = await startGateway();

  return {
    baseUrl,
    metricsUrl,
    gateway,
    services,
    startService: start,
    async stopService(name) {
      await services[name]?.close();
      delete services[name];
    },
    async addGateway(more) {
      const { app, url } = await startGateway(more);
      extra.push(app);
      return url;
    },
    async addReplica(name) {
      const config = loadConfig(name, envFor(name));
      const replica = await startService(config, MODULES[name](), { logger: loggerFor(name, config.LOG_LEVEL) });
      extra.push(replica);
      return replica;
    },
    async close() {
      for (const e of extra) await e.close();
      await gateway.close();
      for (const s of Object.values(services)) await s.close();
    },
  };
}

/** A port free right now (the OS's choice), for a server that takes its port from the configuration. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A request to a service as another service sends it (libs/testing's natsRequest). */
export { natsRequest as natsQuery } from '@app/testing';
