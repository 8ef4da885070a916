/**
 * bench/http-server: the gateway's HTTP layer on Express and on Fastify, in the same run. The same gateway
 * app (GatewayModule, every guard, interceptor, filter and the access log) is built twice, each in its own
 * process; this process sends closed-loop load to one at a time, alternating (A/B, A/B, ...), to
 * - `GET /health` (public: the HTTP layer and Nest's pipeline, no NATS), and
 * - `GET /api/v1/me` with a bearer token (the auth guard's NATS request and the controller's: two round trips).
 * Identity is a stub in this process answering `verify-token` and `get-user` at once, so that what differs
 * between the two is the HTTP server, not a database. Besides req/s, p50 and p99 it prints the gateway
 * process's CPU time per request (user + system, read from the process itself), which depends less than
 * req/s on what else runs on the machine.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/http-server/main.ts [seconds=10] [rounds=2] [concurrency=32]
 *
 * Uses NATS_URL when set, otherwise starts nats-server on a free port.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { findBinary, startNatsServer, type LocalServer } from '../../libs/testing/src/local-servers';
import { load, percentile, type LoadResult } from '../lib/http-load';

const PLATFORMS = ['express', 'fastify'] as const;
type Platform = (typeof PLATFORMS)[number];
const TOKEN = 'ppt_bench-http-server-token-0123456789';
const USER = { userId: '7d1c1e0a-3b7e-4c8e-9b1a-2f4f5e6d7c8b', username: 'bench', tokenKind: 'api' };
const PROFILE = { id: USER.userId, username: 'bench', name: 'Bench User', email: 'bench@example.com', createdAt: '2026-01-01T00:00:00.000Z' };

interface Gateway {
  child: ChildProcess;
  base: string;
}

interface Row extends LoadResult {
  platform: Platform;
  route: string;
  round: number;
  /** ms of the gateway process's CPU per request */
  cpuMs: number;
}

/** Identity as the gateway's ClientProxy sees it (Nest's NATS packets), answering at once. */
function stubIdentity(nc: NatsConnection, prefix: string): void {
  const codec = JSONCodec<{ id: string }>();
  const answer = (query: string, response: unknown) =>
    nc.subscribe(`${prefix}qry.identity.${query}`, {
      callback: (_err, msg) => msg.respond(codec.encode({ id: codec.decode(msg.data).id, response, isDisposed: true } as never)),
    });
  answer('verify-token', USER);
  answer('get-user', PROFILE);
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
function cpuMs(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpu: NodeJS.CpuUsage }) => resolve((m.cpu.user + m.cpu.system) / 1000));
    child.send('cpu');
  });
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const fmt = (n: number, width = 9, digits = 0) => n.toFixed(digits).padStart(width);

function printRow(r: Row): void {
  process.stdout.write(
    `${String(r.round).padStart(5)}  ${r.route.padEnd(14)}${r.platform.padEnd(9)}${fmt(r.rps)}${fmt(r.p50, 9, 2)}${fmt(r.p99, 9, 2)}${fmt(r.cpuMs, 11, 3)}${String(r.errors).padStart(8)}\n`,
  );
}

function printSummary(rows: Row[], routes: string[]): void {
  process.stdout.write(`\nmedians over the rounds; ratio = fastify / express (per round: min-max)\n`);
  process.stdout.write(`${'route'.padEnd(14)}${'platform'.padEnd(9)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'cpu ms/req'.padStart(11)}\n`);
  for (const route of routes) {
    const of = (p: Platform) => rows.filter((r) => r.route === route && r.platform === p);
    for (const p of PLATFORMS) {
      const rs = of(p);
      process.stdout.write(
        `${route.padEnd(14)}${p.padEnd(9)}${fmt(median(rs.map((r) => r.rps)))}${fmt(median(rs.map((r) => r.p50)), 9, 2)}${fmt(median(rs.map((r) => r.p99)), 9, 2)}${fmt(median(rs.map((r) => r.cpuMs)), 11, 3)}\n`,
      );
    }
    const [e, f] = [of('express'), of('fastify')];
    const ratios = (pick: (r: Row) => number) => e.map((x, i) => pick(f[i]) / pick(x));
    const range = (xs: number[]) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
    process.stdout.write(
      `${route.padEnd(14)}${'ratio'.padEnd(9)} req/s ${range(ratios((r) => r.rps))}, p50 ${range(ratios((r) => r.p50))}, p99 ${range(ratios((r) => r.p99))}, cpu/req ${range(ratios((r) => r.cpuMs))}\n`,
    );
  }
}

async function main() {
  const seconds = Number(process.argv[2] ?? 10);
  const rounds = Number(process.argv[3] ?? 2);
  const concurrency = Number(process.argv[4] ?? 32);
  let server: LocalServer | undefined;
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    server = await startNatsServer(findBinary('nats-server', [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server'])!);
    natsUrl = server.url;
  }
  const prefix = `benchhttp${randomBytes(3).toString('hex')}.`;
  const nc = await connect({ servers: natsUrl });
  const gateways: Partial<Record<Platform, Gateway>> = {};
  try {
    stubIdentity(nc, prefix);
    // the gateway's production defaults: access log at info (to /dev/null here), no trust in proxies
    const env = { ...process.env, NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'info', GATEWAY_PORT: '0', TRUST_PROXY: 'false' };
    for (const p of PLATFORMS) gateways[p] = await startGateway(p, env);
    const routes: Array<[string, string, Record<string, string>]> = [
      ['GET /health', '/health', {}],
      ['GET /me', '/api/v1/me', { Authorization: `Bearer ${TOKEN}` }],
    ];
    for (const p of PLATFORMS) for (const [name, path, headers] of routes) await load(`warm-up ${name}`, `${gateways[p]!.base}${path}`, headers, 4, 2);

    process.stdout.write(`\nbench/http-server: ${seconds}s per run, ${concurrency} concurrent keep-alive connections, ${rounds} rounds (A/B alternating)\n\n`);
    process.stdout.write(`round  ${'route'.padEnd(14)}${'platform'.padEnd(9)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'cpu ms/req'.padStart(11)}${'errors'.padStart(8)}\n`);
    const rows: Row[] = [];
    for (let round = 1; round <= rounds; round++)
      for (const [name, path, headers] of routes)
        for (const platform of PLATFORMS) {
          const gw = gateways[platform]!;
          const cpuBefore = await cpuMs(gw.child);
          const result = await load(name, `${gw.base}${path}`, headers, concurrency, seconds);
          const row: Row = { ...result, platform, route: name, round, cpuMs: ((await cpuMs(gw.child)) - cpuBefore) / result.requests };
          rows.push(row);
          printRow(row);
        }
    printSummary(
      rows,
      routes.map(([name]) => name),
    );
  } finally {
    for (const gw of Object.values(gateways)) gw.child.disconnect();
    await nc.drain().catch(() => undefined);
    await server?.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
