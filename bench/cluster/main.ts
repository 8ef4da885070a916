/**
 * bench/cluster: one replica of every service on one nats-server against two replicas of every service on a
 * JetStream cluster of three (docs/scaling.md "Cluster topology"), in one run. Each topology is started as
 * `npm start` starts it (REPLICAS / NATS_CLUSTER; FerretDB and the nats-servers started by it, data in a
 * temporary DATA_DIR), seeded with an organization and `concurrency` accounts, then loaded closed-loop:
 * - `GET /me` and `GET /organizations/{org}/people?limit=20` as the admin (authenticated reads);
 * - `PUT /organizations/{org}/people/{user}/role`, each loop its own user, Member ↔ Admin (role changes).
 * Prints req/s, p50/p99, the ratio two/one, and the CPU seconds each process used during the loads (from
 * /proc: utime + stime of every process under npm start, summed by kind: gateway, identity, …, nats-server,
 * ferretdb), which shows what bounds the throughput.
 *
 *   npm run bench:cluster -- [seconds=10] [concurrency=16]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInRoleId } from '../../libs/contracts/src/ids';
import { freePort } from '../../libs/testing/src/local-servers';
import { load, printTable, type LoadResult } from '../lib/http-load';
import { cpuByKind, cpuSpent } from '../lib/process-cpu';
import { startStack, stopStack } from '../startup/stack';

const TOKEN = 'ppt_bench-cluster-token-0123456789abcdef';

interface Run {
  topology: string;
  results: LoadResult[];
  cpu: Record<string, number>;
  seconds: number;
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function runTopology(replicas: number, natsCluster: number, seconds: number, concurrency: number): Promise<Run> {
  const topology = replicas === 1 && natsCluster === 1 ? 'one of each, one nats-server' : `${replicas} of each, NATS cluster of ${natsCluster}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const logFile = join(tmpdir(), `bench-cluster-${process.pid}-${replicas}.log`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(port),
    REPLICAS: String(replicas),
    NATS_CLUSTER: String(natsCluster),
    BOOTSTRAP_ADMIN_EMAIL: 'bench@example.com',
    BOOTSTRAP_ADMIN_TOKEN: TOKEN,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  delete env.MONGO_URL;
  delete env.NATS_URL;
  let child: ChildProcess | undefined;
  try {
    process.stdout.write(`\n${topology}: starting (output in ${logFile})…\n`);
    const stack = await startStack(env, base, 300_000, logFile);
    child = stack.child;
    process.stdout.write(`  ready in ${stack.allReadyMs} ms; seeding…\n`);
    const org = (await call(base, 'POST', '/organizations', { name: 'Bench Org' })).id as string;
    const accounts = Array.from({ length: concurrency }, (_, i) => ({ email: `bench${i}@example.com`, username: `bench${i}` }));
    const created = (await call(base, 'POST', `/organizations/${org}/accounts`, { accounts })).created as Array<{ userId: string }>;
    const users = created.map((c) => c.userId);
    const roles = [builtInRoleId(org, 'admin'), builtInRoleId(org, 'member')];
    const headers = { authorization: `Bearer ${TOKEN}` };
    const before = cpuByKind(child.pid!);
    const began = Date.now();
    const results = [
      await load('GET /me', `${base}/api/v1/me`, headers, concurrency, seconds),
      await load('GET people?limit=20', `${base}/api/v1/organizations/${org}/people?limit=20`, headers, concurrency, seconds),
      await load('PUT role (own user per loop)', '', headers, concurrency, seconds, {
        method: 'PUT',
        url: (w) => `${base}/api/v1/organizations/${org}/people/${users[w % users.length]}/role`,
        body: (_w, n) => ({ roleId: roles[n % 2] }),
      }),
    ];
    const after = cpuByKind(child.pid!);
    const cpu = cpuSpent(before, after);
    return { topology, results, cpu, seconds: (Date.now() - began) / 1000 };
  } finally {
    await stopStack(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const seconds = Number(process.argv[2] ?? 10);
  const concurrency = Number(process.argv[3] ?? 16);
  const runs: Run[] = [];
  for (const [replicas, natsCluster] of [
    [1, 1],
    [2, 3],
  ])
    runs.push(await runTopology(replicas, natsCluster, seconds, concurrency));
  for (const run of runs) {
    process.stdout.write(`\n## ${run.topology} (${seconds} s per load, ${concurrency} loops)\n`);
    printTable(run.results);
    const total = Object.values(run.cpu).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `CPU seconds during the loads (${run.seconds.toFixed(0)} s wall, 2 cores = ${(2 * run.seconds).toFixed(0)} CPU s at most): ${Object.entries(run.cpu)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}; total ${total.toFixed(1)}\n`,
    );
  }
  process.stdout.write('\n## two / one (req/s)\n');
  for (const [i, r] of runs[0].results.entries()) process.stdout.write(`${r.name}: ${(runs[1].results[i].rps / r.rps).toFixed(2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
