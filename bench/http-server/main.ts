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
 *   npm run bench:http-server -- [seconds=10] [rounds=2] [concurrency=32]
 *
 * Uses NATS_URL when set, otherwise starts nats-server on a free port. EXPRESS_GATEWAY_APP: the Express side is
 * that gateway.app.ts (an older build's) instead of express-app.ts (bench/README.md).
 */
import { load, percentile, type LoadResult } from '../lib/http-load';
import { cpuMs, PLATFORMS, startBench, TOKEN, type Platform } from './harness';

interface Row extends LoadResult {
  platform: Platform;
  route: string;
  round: number;
  /** ms of the gateway process's CPU per request */
  cpuMs: number;
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const fmt = (n: number, width = 9, digits = 0) => n.toFixed(digits).padStart(width);

function printRow(r: Row): void {
  process.stdout.write(
    `${String(r.round).padStart(5)}  ${r.route.padEnd(14)}${r.platform.padEnd(9)}${fmt(r.rps)}${fmt(r.p50, 9, 2)}${fmt(r.p99, 9, 2)}${fmt(r.cpuMs, 11, 3)}${String(r.errors).padStart(8)}\n`,
  );
}

function printSummary(rows: Row[], routes: string[]): void {
  process.stdout.write(`\nmedians over the rounds; ratio = fastify / express (per round: min-max)\n`);
  process.stdout.write(
    `${'route'.padEnd(14)}${'platform'.padEnd(9)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'cpu ms/req'.padStart(11)}\n`,
  );
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
  const { gateways, stop } = await startBench();
  try {
    const routes: Array<[string, string, Record<string, string>]> = [
      ['GET /health', '/health', {}],
      ['GET /me', '/api/v1/me', { Authorization: `Bearer ${TOKEN}` }],
    ];
    for (const p of PLATFORMS) for (const [name, path, headers] of routes) await load(`warm-up ${name}`, `${gateways[p].base}${path}`, headers, 4, 2);

    process.stdout.write(`\nbench/http-server: ${seconds}s per run, ${concurrency} concurrent keep-alive connections, ${rounds} rounds (A/B alternating)\n\n`);
    process.stdout.write(
      `round  ${'route'.padEnd(14)}${'platform'.padEnd(9)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'cpu ms/req'.padStart(11)}${'errors'.padStart(8)}\n`,
    );
    const rows: Row[] = [];
    for (let round = 1; round <= rounds; round++)
      for (const [name, path, headers] of routes)
        for (const platform of PLATFORMS) {
          const gw = gateways[platform];
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
    await stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
