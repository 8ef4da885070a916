/**
 * What bench/http-server's scripts share: NATS (NATS_URL, or a nats-server of its own on a free port), a
 * stub of identity, and the gateway built on each platform, each in its own process (gateway.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { findBinary, startNatsServer, type LocalServer } from '../../libs/testing/src/local-servers';

export const PLATFORMS = ['express', 'fastify'] as const;
export type Platform = (typeof PLATFORMS)[number];
/** the token the stub accepts; any other is UNAUTHENTICATED */
export const TOKEN = 'ppt_bench-http-server-token-0123456789';
const USER = { userId: '7d1c1e0a-3b7e-4c8e-9b1a-2f4f5e6d7c8b', username: 'bench', tokenKind: 'api' };
const PROFILE = { id: USER.userId, username: 'bench', name: 'Bench User', email: 'bench@example.com', createdAt: '2026-01-01T00:00:00.000Z' };

export interface Gateway {
  child: ChildProcess;
  base: string;
}

/** Identity as the gateway's ClientProxy sees it (Nest's NATS packets), answering at once. */
function stubIdentity(nc: NatsConnection, prefix: string): void {
  const codec = JSONCodec<{ id: string; data: { body: { token?: string } } }>();
  const answer = (query: string, reply: (body: { token?: string }) => object) =>
    nc.subscribe(`${prefix}qry.identity.${query}`, {
      callback: (_err, msg) => {
        const { id, data } = codec.decode(msg.data);
        msg.respond(JSONCodec().encode({ id, isDisposed: true, ...reply(data.body) }));
      },
    });
  answer('verify-token', ({ token }) => (token === TOKEN ? { response: USER } : { err: { code: 'UNAUTHENTICATED', message: 'unknown token' } }));
  answer('get-user', () => ({ response: PROFILE }));
}

function startGateway(platform: Platform, env: NodeJS.ProcessEnv): Promise<Gateway> {
  const child = fork(join(__dirname, 'gateway.ts'), [platform], {
    cwd: join(__dirname, '../..'),
    env,
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${platform} gateway did not start within 180 s`)), 180_000);
    child.once('exit', (code) => reject(new Error(`the ${platform} gateway exited with ${code}`)));
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve({ child, base: `http://127.0.0.1:${m.port}` });
    });
  });
}

/** The child's CPU time so far (user + system), in ms. */
export function cpuMs(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpu: NodeJS.CpuUsage }) => resolve((m.cpu.user + m.cpu.system) / 1000));
    child.send('cpu');
  });
}

/** Both gateways up (production defaults: access log at info, here to /dev/null; no trust in proxies), and how to stop it all. */
export function startBench(): Promise<{ gateways: Record<Platform, Gateway>; stop(): Promise<void> }> {
  return startGateways({ express: { platform: 'express' }, fastify: { platform: 'fastify' } });
}

/**
 * One gateway process per variant, each on its platform with its own environment on top of the defaults
 * (access log at info, to /dev/null; no trust in proxies), one identity stub for all; and how to stop it all.
 */
export async function startGateways<K extends string>(
  variants: Record<K, { platform: Platform; env?: Record<string, string> }>,
): Promise<{ gateways: Record<K, Gateway>; stop(): Promise<void> }> {
  let server: LocalServer | undefined;
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    server = await startNatsServer(findBinary('nats-server', [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server'])!);
    natsUrl = server.url;
  }
  const prefix = `benchhttp${randomBytes(3).toString('hex')}.`;
  const nc = await connect({ servers: natsUrl });
  const gateways: Partial<Record<K, Gateway>> = {};
  const stop = async () => {
    for (const gw of Object.values<Gateway | undefined>(gateways)) gw?.child.disconnect();
    await nc.drain().catch(() => undefined);
    await server?.stop();
  };
  try {
    stubIdentity(nc, prefix);
    const env = { ...process.env, NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'info', GATEWAY_PORT: '0', TRUST_PROXY: 'false' };
    for (const [name, v] of Object.entries(variants) as Array<[K, { platform: Platform; env?: Record<string, string> }]>)
      gateways[name] = await startGateway(v.platform, { ...env, ...v.env });
  } catch (err) {
    await stop();
    throw err;
  }
  return { gateways: gateways as Record<K, Gateway>, stop };
}
