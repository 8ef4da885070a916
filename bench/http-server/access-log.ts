/**
 * bench/http-server/access-log: what the gateway's access log costs a request. The same Fastify gateway app
 * (identity stubbed over NATS, as in main.ts) runs in separate processes, one per variant, each writing its log
 * to /dev/null; this process sends closed-loop load to one at a time, alternating, to `GET /health` (never
 * logged: a probe) and `GET /api/v1/me` with a token (logged). Variants:
 * - `info`: LOG_LEVEL=info, one access log line per request (the default);
 * - `off`: LOG_LEVEL=warn, no access log line;
 * - `before`: LOG_LEVEL=info with GATEWAY_APP, another build's gateway.app.ts (e.g. an older commit unpacked
 *   with `git archive`), when BEFORE_GATEWAY_APP is set.
 * It prints req/s, p50, p99 and the gateway process's CPU ms per request (median over the rounds), and the
 * cost of the log line: 1 - req/s(info) / req/s(off), and the CPU per request it adds.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/http-server/access-log.ts [seconds=5] [rounds=3] [concurrency=32]
 */
import { load, percentile } from '../lib/http-load';
import { cpuMs, startGateways, TOKEN } from './harness';

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const fmt = (n: number, width = 9, digits = 0) => n.toFixed(digits).padStart(width);

async function main() {
  const seconds = Number(process.argv[2] ?? 5);
  const rounds = Number(process.argv[3] ?? 3);
  const concurrency = Number(process.argv[4] ?? 32);
  const before = process.env.BEFORE_GATEWAY_APP;
  const variants: Record<string, { platform: 'fastify'; env: Record<string, string> }> = {
    info: { platform: 'fastify', env: { LOG_LEVEL: 'info' } },
    off: { platform: 'fastify', env: { LOG_LEVEL: 'warn' } },
    ...(before ? { before: { platform: 'fastify', env: { LOG_LEVEL: 'info', GATEWAY_APP: before } } } : {}),
  };
  const names = Object.keys(variants);
  const { gateways, stop } = await startGateways(variants);
  const routes: Array<[string, string, Record<string, string>]> = [
    ['GET /health', '/health', {}],
    ['GET /me', '/api/v1/me', { Authorization: `Bearer ${TOKEN}` }],
  ];
  try {
    for (const name of names) for (const [, path, headers] of routes) await load('warm-up', `${gateways[name].base}${path}`, headers, 4, 2);
    process.stdout.write(`bench/http-server/access-log: ${seconds}s per run, c=${concurrency}, ${rounds} rounds, variants alternating\n\n`);
    const rows: Array<{ route: string; variant: string; rps: number; p50: number; p99: number; cpu: number; errors: number }> = [];
    for (let round = 1; round <= rounds; round++)
      for (const [route, path, headers] of routes)
        for (const variant of round % 2 ? names : [...names].reverse()) {
          const gw = gateways[variant];
          const cpuBefore = await cpuMs(gw.child);
          const r = await load(route, `${gw.base}${path}`, headers, concurrency, seconds);
          const row = { route, variant, rps: r.rps, p50: r.p50, p99: r.p99, cpu: ((await cpuMs(gw.child)) - cpuBefore) / r.requests, errors: r.errors };
          rows.push(row);
          process.stdout.write(
            `${String(round).padStart(5)}  ${route.padEnd(12)}${variant.padEnd(8)}${fmt(row.rps)}${fmt(row.p50, 9, 2)}${fmt(row.p99, 9, 2)}${fmt(row.cpu, 11, 3)}${String(row.errors).padStart(7)}\n`,
          );
        }
    process.stdout.write(
      `\nmedians over the rounds\n${'route'.padEnd(12)}${'variant'.padEnd(8)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'cpu ms/req'.padStart(11)}\n`,
    );
    const med = (route: string, variant: string, pick: (r: (typeof rows)[number]) => number) =>
      median(rows.filter((r) => r.route === route && r.variant === variant).map(pick));
    for (const [route] of routes) {
      for (const variant of names)
        process.stdout.write(
          `${route.padEnd(12)}${variant.padEnd(8)}${fmt(med(route, variant, (r) => r.rps))}${fmt(
            med(route, variant, (r) => r.p50),
            9,
            2,
          )}${fmt(
            med(route, variant, (r) => r.p99),
            9,
            2,
          )}${fmt(
            med(route, variant, (r) => r.cpu),
            11,
            3,
          )}\n`,
        );
      for (const variant of names.filter((n) => n !== 'off')) {
        const cost = 1 - med(route, variant, (r) => r.rps) / med(route, 'off', (r) => r.rps);
        const cpu = med(route, variant, (r) => r.cpu) - med(route, 'off', (r) => r.cpu);
        process.stdout.write(
          `${route.padEnd(12)}${variant} vs off: ${(cost * 100).toFixed(1)} % fewer req/s, ${cpu.toFixed(3)} ms more CPU per request (${((cpu / med(route, 'off', (r) => r.cpu)) * 100).toFixed(1)} %)\n`,
        );
      }
    }
  } finally {
    await stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
