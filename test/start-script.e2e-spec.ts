import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, requireInfraEnv } from '@app/testing';

/**
 * `npm start` (scripts/start.js) as an operator runs it: the five services as child processes against this
 * run's MongoDB-wire server and NATS (MONGO_URL / NATS_URL, this file's NATS_SUBJECT_PREFIX), ready within
 * 90 s, and SIGTERM stops everything with exit 0 and no process left behind.
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

  it('an invalid GATEWAY_PORT stops it with a non-zero exit and a message naming GATEWAY_PORT', async () => {
    const s = startScript({ DATA_DIR: dataDir, GATEWAY_PORT: 'abc' });
    const result = await s.exited;
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(s.output()).toContain('GATEWAY_PORT');
  }, 30_000);
});
