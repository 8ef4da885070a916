import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findBinary, freePort, waitForPort } from '@app/testing';

/**
 * The scale-out topology as separate processes (docs/scaling.md "Cluster topology"): a JetStream cluster of
 * nats-servers on loopback (routes between all of them, each its own store directory) and services started as
 * `node dist/…/main.js`, each of which can be killed with SIGKILL and started again with the same ports and data.
 */
const ROOT = resolve(__dirname, '../..');

/** One process this helper started: `kill9()` (no clean-up at all) and `restart()` with the same arguments. */
export interface ManagedProcess {
  name: string;
  /** the last output lines, for error messages */
  output(): string;
  alive(): boolean;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function managed(
  name: string,
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyPort: number,
  readyTimeoutMs: number,
): ManagedProcess & { start(): Promise<void> } {
  let proc: ChildProcess | undefined;
  let out = '';
  const alive = () => !!proc && proc.exitCode === null && proc.signalCode === null;
  const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
  const self = {
    name,
    output: () => out,
    alive,
    async start() {
      proc = spawn(bin, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const logDir = process.env.CLUSTER_TEST_LOG_DIR; // the whole output of every process, to trace a failure
      if (logDir) mkdirSync(logDir, { recursive: true });
      for (const s of [proc.stdout, proc.stderr])
        s?.on('data', (d: Buffer) => {
          out = (out + d.toString()).slice(-6000);
          if (logDir) appendFileSync(join(logDir, `${name.replace(/[^\w.-]+/g, '_')}.log`), d);
        });
      await waitForPort(readyPort, readyTimeoutMs, proc, () => out);
    },
    async kill9() {
      if (!proc || !alive()) return;
      const p = proc;
      p.kill('SIGKILL');
      await exited(p);
    },
    async restart() {
      await self.kill9();
      await self.start();
    },
    async stop() {
      if (!proc || !alive()) return;
      const p = proc;
      p.kill('SIGTERM');
      await Promise.race([exited(p), new Promise((r) => setTimeout(r, 8000).unref())]);
      if (alive()) await self.kill9();
    },
  };
  return self;
}

export interface NatsCluster {
  /** client URLs of every node, comma-separated (NATS_URL) */
  url: string;
  nodes: Array<ManagedProcess & { clientUrl: string; monitorUrl: string }>;
  stop(): Promise<void>;
}

/** The nats-server arguments of node `i` of a cluster (the same as scripts/start.js uses). */
export function natsClusterArgs(i: number, ports: { client: number[]; route: number[]; monitor: number[] }, dir: string, cluster = 'people'): string[] {
  return [
    '-a',
    '127.0.0.1',
    '-p',
    String(ports.client[i]),
    '-m',
    String(ports.monitor[i]),
    '-js',
    '-sd',
    dir,
    '--server_name',
    `n${i + 1}`,
    '--cluster_name',
    cluster,
    '--cluster',
    `nats://127.0.0.1:${ports.route[i]}`,
    '--routes',
    ports.route.map((p) => `nats://127.0.0.1:${p}`).join(','),
  ];
}

/** `size` nats-servers with JetStream in one cluster, on free loopback ports, data in temporary directories. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const bin = findBinary('nats-server', [process.env.NATS_SERVER_BIN]);
  if (!bin) throw new Error('nats-server not found (PATH, /usr/sbin, .tools/bin or NATS_SERVER_BIN)');
  const ports = { client: [] as number[], route: [] as number[], monitor: [] as number[] };
  for (let i = 0; i < size; i++) {
    ports.client.push(await freePort());
    ports.route.push(await freePort());
    ports.monitor.push(await freePort());
  }
  const dirs = ports.client.map(() => mkdtempSync(join(tmpdir(), 'nats-cluster-')));
  const nodes = dirs.map((dir, i) => ({
    ...managed(`nats n${i + 1}`, bin, natsClusterArgs(i, ports, dir), process.env, ports.client[i], 30_000),
    clientUrl: `nats://127.0.0.1:${ports.client[i]}`,
    monitorUrl: `http://127.0.0.1:${ports.monitor[i]}`,
  }));
  await Promise.all(nodes.map((n) => n.start()));
  // JetStream answers once the nodes have elected a meta leader
  const deadline = Date.now() + 30_000;
  for (;;) {
    const leaders = await Promise.all(nodes.map((n) => jsz(n.monitorUrl).then((j) => j?.meta_cluster?.leader)));
    if (leaders.every((l) => l && l === leaders[0])) break;
    if (Date.now() > deadline) throw new Error(`the NATS cluster elected no meta leader in 30 s:\n${nodes.map((n) => n.output()).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: nodes.map((n) => n.clientUrl).join(','),
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

interface Jsz {
  meta_cluster?: { leader?: string };
  account_details?: Array<{ stream_detail?: Array<{ name: string; state: { messages: number; last_seq: number }; cluster?: StreamCluster }> }>;
}
export interface StreamCluster {
  leader?: string;
  replicas?: Array<{ name: string; current: boolean; lag?: number }>;
}

/** The node's /jsz (with streams), or undefined when it does not answer. */
export async function jsz(monitorUrl: string): Promise<Jsz | undefined> {
  try {
    const res = await fetch(`${monitorUrl}/jsz?streams=true&accounts=true`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as Jsz) : undefined;
  } catch {
    return undefined;
  }
}

/** What each node of the cluster holds of a stream: its message count and last sequence (undefined: none). */
export async function streamStateByNode(
  cluster: NatsCluster,
  stream: string,
): Promise<Array<{ node: string; messages?: number; lastSeq?: number; cluster?: StreamCluster }>> {
  return Promise.all(
    cluster.nodes.map(async (n) => {
      const details = (await jsz(n.monitorUrl))?.account_details?.flatMap((a) => a.stream_detail ?? []) ?? [];
      const s = details.find((d) => d.name === stream);
      return { node: n.name, messages: s?.state.messages, lastSeq: s?.state.last_seq, cluster: s?.cluster };
    }),
  );
}

/**
 * The services compiled once for this run into dist/cluster-test (not dist/, which `npm start` and its test
 * build at the same time): `tsc -p tsconfig.build.json`, incremental. Returns the output directory.
 */
export function buildServices(): string {
  const outDir = join(ROOT, 'dist/cluster-test');
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir, '--tsBuildInfoFile', join(outDir, '.tsbuildinfo')],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  return outDir;
}

/** `port`: its HTTP port (the gateway's public one); `metricsPort`: where its Prometheus /metrics answers */
export type ServiceProcess = ManagedProcess & { service: string; port: number; metricsPort: number };

/**
 * One service as its own process, `node -r tsconfig-paths/register <dist>/apps/<service>/src/main.js`, ready
 * when its port answers (HTTP_PORT for /health; GATEWAY_PORT for the gateway) and /health/ready is 200.
 */
export async function startServiceProcess(dist: string, service: string, replica: number, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const metricsPort = service === 'gateway' ? await freePort() : port;
  const portEnv = service === 'gateway' ? { GATEWAY_PORT: String(port), METRICS_PORT: String(metricsPort) } : { HTTP_PORT: String(port) };
  const fullEnv = { ...process.env, ...env, ...portEnv, TS_NODE_BASEURL: dist };
  const p = managed(
    `${service}#${replica}`,
    process.execPath,
    ['-r', 'tsconfig-paths/register', join(dist, `apps/${service}/src/main.js`)],
    fullEnv,
    port,
    60_000,
  );
  const proc = {
    ...p,
    service,
    port,
    metricsPort,
    async start() {
      try {
        await p.start();
        await waitReady(port, 90_000, p);
      } catch (err) {
        await p.kill9();
        throw err;
      }
    },
    async restart() {
      await p.kill9();
      await proc.start();
    },
  };
  await proc.start();
  return proc;
}

async function waitReady(port: number, timeoutMs: number, p: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!p.alive()) throw new Error(`${p.name} exited during start-up:\n${p.output()}`);
    const status = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) })
      .then((r) => (r.body?.cancel(), r.status))
      .catch(() => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${p.name} not ready after ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
