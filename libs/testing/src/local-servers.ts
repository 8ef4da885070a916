import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A server process this helper started, stopped with `stop()`. */
export interface LocalServer {
  url: string;
  kind: string;
  /** FerretDB: its Prometheus metrics (`ferretdb_client_requests_total` counts every command it served) */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number, proc?: ChildProcess, output?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode}: ${output?.() ?? ''}`);
    const open = await new Promise<boolean>((ok) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), ok(true)));
      s.once('error', () => ok(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms: ${output?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** First executable found: an explicit path, the project's `.tools/bin`, then PATH. */
export function findBinary(name: string, extra: Array<string | undefined> = []): string | undefined {
  const candidates = [
    ...extra,
    resolve(__dirname, '../../../.tools/bin', name),
    resolve(process.cwd(), '.tools/bin', name),
    `/usr/sbin/${name}`,
    `/usr/local/bin/${name}`,
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() || undefined : undefined;
}

async function startProcess(kind: string, bin: string, args: string[], port: number, dir: string, timeoutMs = 30_000) {
  let output = '';
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  proc.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  try {
    await waitForPort(port, timeoutMs, proc, () => output);
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${kind} did not start: ${(err as Error).message}`);
  }
  return {
    proc,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer); // a pending timer would keep jest alive after the run
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `nats-server -js` on a loopback port (a free one unless given) with its store in a temporary directory
 * (unless given: a fixed `dataDir` and `port` let a test stop the server and start it again with its data). */
export async function startNatsServer(bin: string, dataDir?: string, fixedPort?: number): Promise<LocalServer & { port: number }> {
  const port = fixedPort ?? (await freePort());
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'nats-'));
  const p = await startProcess('nats-server', bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], port, dataDir ? '' : dir);
  return { url: `nats://127.0.0.1:${port}`, kind: 'nats-server', port, stop: p.stop };
}

/** FerretDB (SQLite backend) on a free loopback port with its data in a temporary directory. */
export async function startFerretDb(bin: string, dataDir?: string): Promise<LocalServer> {
  const port = await freePort();
  const debugPort = await freePort();
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'ferretdb-'));
  const p = await startProcess(
    'ferretdb',
    bin,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${port}`,
      `--debug-addr=127.0.0.1:${debugPort}`,
      '--telemetry=disable',
      '--log-level=error',
    ],
    port,
    dataDir ? '' : dir,
  );
  return { url: `mongodb://127.0.0.1:${port}/`, kind: 'ferretdb', metricsUrl: `http://127.0.0.1:${debugPort}/debug/metrics`, stop: p.stop };
}

/** `mongod` on a free loopback port with its data in a temporary directory. */
export async function startMongod(bin: string, dataDir?: string): Promise<LocalServer> {
  const port = await freePort();
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'mongod-'));
  const p = await startProcess('mongod', bin, ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', dir], port, dataDir ? '' : dir);
  return { url: `mongodb://127.0.0.1:${port}/`, kind: 'mongod', stop: p.stop };
}
