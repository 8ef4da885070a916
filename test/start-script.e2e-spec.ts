import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, requireInfraEnv } from '@app/testing';

/**
 * `npm start` (scripts/start.js) as an operator runs it: the five services as child processes against this
 * run's MongoDB-wire server and NATS (MONGO_URL / NATS_URL, this file's NATS_SUBJECT_PREFIX), ready within
 * 90 s, and SIGTERM stops everything with exit 0 and no process left behind. Started with its own
 * nats-server and FerretDB under DATA_DIR: a SIGKILL takes every child with it, and DATA_DIR is locked
 * against a second instance while the first lives.
 */
const ROOT = resolve(__dirname, '..');
const BOOTSTRAP_TOKEN = 'ppt_start-script-e2e-token-0123456789';

interface Started {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startScript(extraEnv: Record<string, string>): Started {
  const { mongoUrl, natsUrl } = requireInfraEnv();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MONGO_URL: mongoUrl,
    NATS_URL: natsUrl,
    NATS_SUBJECT_PREFIX: process.env.NATS_SUBJECT_PREFIX,
    BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP_TOKEN,
    QUIET: '1',
    ...extraEnv,
  };
  const proc = spawn(process.execPath, ['scripts/start.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    proc.once('exit', (code, signal) => ok({ code, signal })),
  );
  return { proc, output: () => out, exited };
}

async function waitForOutput(s: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(s.output())) {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null)
      throw new Error(`start.js exited (${s.proc.exitCode ?? s.proc.signalCode}) before ${pattern}:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} after ${timeoutMs} ms:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const childPids = (pid: number): number[] =>
  spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);

/** Every process below `pid` (children, grandchildren…), with its command line. */
function descendants(pid: number): Array<{ pid: number; args: string }> {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  const found: Array<{ pid: number; args: string }> = [];
  const walk = (parent: number) => {
    for (const r of rows.filter((x) => x.ppid === parent)) {
      found.push({ pid: r.pid, args: r.args });
      walk(r.pid);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start (scripts/start.js)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'start-script-'));
  let running: Started | undefined;
  let pids: number[] = [];

  afterAll(async () => {
    // Whatever a failed test left running.
    if (running && running.proc.exitCode === null && running.proc.signalCode === null) {
      running.proc.kill('SIGKILL');
      await running.exited;
    }
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the five services, serves /health and /health/ready, and SIGTERM stops everything with exit 0', async () => {
    const port = await freePort();
    running = startScript({ DATA_DIR: dataDir, GATEWAY_PORT: String(port) });
    await waitForOutput(running, /Gateway listening on http:\/\/localhost:\d+/, 90_000);

    const out = running.output();
    for (const service of ['identity', 'membership', 'authorization', 'audit-log', 'gateway']) expect(out).toContain(`✔ ${service} ready`);
    expect(out).toContain(`Gateway listening on http://localhost:${port} (API at /api/v1, docs at /docs)`);
    expect(out).toContain('admin@example.com'); // BOOTSTRAP_ADMIN_EMAIL defaulted, and said so
    expect(out).not.toMatch(/^\[\w[\w-]*\] \{/m); // QUIET=1: no JSON log lines

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', service: 'gateway' });
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);

    pids = childPids(running.proc.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(5); // the four services and the gateway (infra comes from MONGO_URL / NATS_URL)

    const stoppedAt = Date.now();
    running.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      running.exited,
      new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`still running 15 s after SIGTERM:\n${running!.output()}`)), 15_000))),
    ]).finally(() => clearTimeout(timer));
    expect(result).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(pids.filter(alive)).toEqual([]);
  }, 120_000);

  it('SIGKILL of npm start takes its children with it; a second npm start on the same DATA_DIR refuses while the first lives', async () => {
    // its own nats-server and FerretDB under DATA_DIR (no MONGO_URL / NATS_URL); killed before the services are ready
    const own = { DATA_DIR: dataDir, GATEWAY_PORT: '0', MONGO_URL: '', NATS_URL: '' };
    const first = (running = startScript(own));
    await waitForOutput(first, /✔ ferretdb on mongodb:/, 60_000);
    const isService = (args: string) => /apps\/[\w-]+\/src\/main\.ts/.test(args);
    let tree: Array<{ pid: number; args: string }> = [];
    const deadline = Date.now() + 30_000;
    while ((tree = descendants(first.proc.pid!)).filter((p) => isService(p.args)).length < 4) {
      if (Date.now() > deadline) throw new Error(`the services were not spawned: ${JSON.stringify(tree)}\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    pids = tree.map((p) => p.pid);
    expect(tree.some((p) => /nats-server/.test(p.args))).toBe(true);
    expect(tree.some((p) => /ferretdb/.test(p.args))).toBe(true);
    expect(readFileSync(join(dataDir, 'npm-start.pid'), 'utf8').trim()).toBe(String(first.proc.pid));

    // a second instance on the same DATA_DIR refuses at once, naming the owner, and starts nothing
    const second = startScript(own);
    let timer: NodeJS.Timeout | undefined;
    const refused = await Promise.race([second.exited, new Promise<'running'>((ok) => (timer = setTimeout(() => ok('running'), 30_000)))]);
    clearTimeout(timer);
    if (refused === 'running') {
      pids.push(...descendants(second.proc.pid!).map((p) => p.pid)); // for afterAll
      second.proc.kill('SIGKILL');
    }
    expect(refused).toEqual({ code: 1, signal: null });
    expect(second.output()).toContain(`is in use by another npm start (pid ${first.proc.pid})`);
    expect(second.output()).not.toContain('✔ nats-server');
    expect(descendants(second.proc.pid!)).toEqual([]);

    // SIGKILL: no chance to clean up, yet every child (servers, services, the reaper) is gone within seconds
    first.proc.kill('SIGKILL');
    await first.exited;
    const gone = Date.now() + 20_000;
    while (pids.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
    expect(tree.filter((p) => alive(p.pid))).toEqual([]);

    // the lock of the dead instance is taken over: the next start runs its servers on the same data
    const third = (running = startScript(own));
    await waitForOutput(third, /✔ ferretdb on mongodb:/, 60_000);
    expect(third.output()).toContain(`Taking over ${join(dataDir, 'npm-start.pid')}`);
    pids = descendants(third.proc.pid!).map((p) => p.pid);
    third.proc.kill('SIGTERM');
    expect(await third.exited).toEqual({ code: 0, signal: null });
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(join(dataDir, 'npm-start.pid'))).toBe(false);
  }, 150_000);

  it('a GATEWAY_PORT something already listens on is refused before anything starts', async () => {
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const port = (busy.address() as { port: number }).port;
    try {
      const s = startScript({ DATA_DIR: dataDir, GATEWAY_PORT: String(port), MONGO_URL: '', NATS_URL: '' });
      expect(await s.exited).toEqual({ code: 1, signal: null });
      expect(s.output()).toContain(`GATEWAY_PORT ${port} is in use`);
      expect(s.output()).not.toContain('✔');
    } finally {
      busy.close();
    }
  }, 30_000);

  it('an invalid GATEWAY_PORT stops it with a non-zero exit and a message naming GATEWAY_PORT', async () => {
    const s = startScript({ DATA_DIR: dataDir, GATEWAY_PORT: 'abc' });
    const result = await s.exited;
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(s.output()).toContain('GATEWAY_PORT');
  }, 30_000);
});
