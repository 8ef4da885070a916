import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, requireInfraEnv, testPrefix } from '@app/testing';

/**
 * `npm start` (scripts/start.js) as a newcomer and an operator run it. On a fresh DATA_DIR, with its own
 * nats-server and FerretDB there: the five services ready, a banner as the last lines with the admin and a
 * generated token (DATA_DIR/admin-token, 0600) that works; a second start whose BOOTSTRAP_* variables come
 * too late says so; SIGTERM stops everything with exit 0 and no process left behind; a SIGKILL takes every
 * child with it, and DATA_DIR is locked against a second instance while the first lives. Against this run's
 * servers (MONGO_URL, NATS_URL): a NATS_URL where nothing listens is reported within seconds; a taken or
 * invalid GATEWAY_PORT stops it before anything starts.
 */
const ROOT = resolve(__dirname, '..');
// the README's old "Try it", run on data from an earlier start
const LATE_TOKEN = 'ppt_choose-a-long-random-token-here';

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
    NATS_SUBJECT_PREFIX: testPrefix(),
    QUIET: '1',
    ...extraEnv,
  };
  const proc = spawn(process.execPath, ['scripts/start.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => proc.once('exit', (code, signal) => ok({ code, signal })));
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

  // dist/ built once here, so that the timings below do not include a first build
  beforeAll(() => {
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`tsc -b tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  }, 300_000);

  afterAll(async () => {
    // Whatever a failed test left running.
    if (running && running.proc.exitCode === null && running.proc.signalCode === null) {
      running.proc.kill('SIGKILL');
      await running.exited;
    }
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** SIGTERM: exit 0 within 15 s, and none of `pids` left. */
  async function stopsCleanly(s: Started, children: number[]): Promise<void> {
    const stoppedAt = Date.now();
    s.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      s.exited,
      new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`still running 15 s after SIGTERM:\n${s.output()}`)), 15_000))),
    ]).finally(() => clearTimeout(timer));
    expect(result).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(children.filter(alive)).toEqual([]);
  }

  const bannerOf = (out: string) => out.slice(out.lastIndexOf('✔ ready in')).trimEnd().split('\n');
  const OWN_SERVERS = { MONGO_URL: '', NATS_URL: '' };
  const tokenFile = join(dataDir, 'admin-token');

  it('first start on an empty DATA_DIR: the five services ready, then a banner with the admin and a generated token (DATA_DIR/admin-token, 0600) that works; SIGTERM stops everything', async () => {
    const port = await freePort();
    running = startScript({ ...OWN_SERVERS, DATA_DIR: dataDir, GATEWAY_PORT: String(port) });
    await waitForOutput(running, /^ {2}try {4}curl .*\n/m, 90_000);

    const out = running.output();
    for (const service of ['identity', 'membership', 'authorization', 'audit-log', 'gateway']) expect(out).toContain(`✔ ${service} ready`);
    expect(out).not.toMatch(/^\[\w[\w-]*\] \{/m); // QUIET=1: no JSON log lines
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^ppt_[0-9a-f]{72}$/);
    // the last lines
    expect(bannerOf(out)).toEqual([
      expect.stringMatching(/^✔ ready in \d+\.\d s$/),
      `Gateway listening on http://localhost:${port} (API at /api/v1, docs at /docs)`,
      `  admin  admin@example.com, API token: ${tokenFile} (mode 0600)`,
      `  token  ${token}   (new; shown once)`,
      `  try    curl -H "Authorization: Bearer $(cat ${tokenFile})" http://localhost:${port}/api/v1/me`,
    ]);
    const me = await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect([me.status, ((await me.json()) as { email: string }).email]).toEqual([200, 'admin@example.com']);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok', service: 'gateway' }]);
    expect((await fetch(`http://127.0.0.1:${port}/health/serving`)).status).toBe(200);
    const services = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect([services.status, ((await services.json()) as { status: string }).status]).toEqual([200, 'up']);

    pids = childPids(running.proc.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(7); // nats-server, FerretDB, the four services and the gateway
    await stopsCleanly(running, pids);
  }, 120_000);

  it('a start on that data with BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_TOKEN says they are ignored and how to start afresh; the first token still works, not shown again', async () => {
    const port = await freePort();
    const firstToken = readFileSync(tokenFile, 'utf8').trim();
    running = startScript({
      ...OWN_SERVERS,
      DATA_DIR: dataDir,
      GATEWAY_PORT: String(port),
      BOOTSTRAP_ADMIN_EMAIL: 'me@example.com',
      BOOTSTRAP_ADMIN_TOKEN: LATE_TOKEN,
    });
    await waitForOutput(running, /start afresh: .*\n/, 90_000);

    const out = running.output();
    expect(out).toContain(
      '[identity] warn: BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_TOKEN are ignored: users exist already, and the bootstrap admin is only created in an empty database',
    );
    expect(bannerOf(out)).toEqual([
      expect.stringMatching(/^✔ ready in \d+\.\d s$/),
      `Gateway listening on http://localhost:${port} (API at /api/v1, docs at /docs)`,
      '⚠ BOOTSTRAP_ADMIN_TOKEN is refused (GET /api/v1/me: 401): users existed before it was set, so BOOTSTRAP_ADMIN_* were ignored (or it was reset since).',
      `  Use the token in ${tokenFile}, or start afresh: stop npm start, remove ${dataDir}, npm start.`,
    ]);
    expect(out).not.toContain(firstToken);
    expect(out).not.toContain(LATE_TOKEN);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { Authorization: `Bearer ${firstToken}` } })).status).toBe(200);

    pids = childPids(running.proc.pid!);
    await stopsCleanly(running, pids);
  }, 120_000);

  it('the admin exists with another token: BOOTSTRAP_ADMIN_TOKEN is ignored, and identity and the banner say so', async () => {
    const port = await freePort();
    running = startScript({ ...OWN_SERVERS, DATA_DIR: dataDir, GATEWAY_PORT: String(port), BOOTSTRAP_ADMIN_TOKEN: LATE_TOKEN });
    await waitForOutput(running, /start afresh: .*\n/, 90_000);
    const out = running.output();
    expect(out).toContain(
      '[identity] warn: BOOTSTRAP_ADMIN_TOKEN is ignored: the bootstrap admin admin@example.com exists already, with the token it was created with (or a newer one)',
    );
    expect(out).toContain('⚠ BOOTSTRAP_ADMIN_TOKEN is refused (GET /api/v1/me: 401)');
    pids = childPids(running.proc.pid!);
    await stopsCleanly(running, pids);
  }, 120_000);

  it('SIGKILL of npm start takes its children with it; a second npm start on the same DATA_DIR refuses while the first lives', async () => {
    // its own nats-server and FerretDB under DATA_DIR (no MONGO_URL / NATS_URL); killed before the services are ready
    const own = { DATA_DIR: dataDir, GATEWAY_PORT: '0', MONGO_URL: '', NATS_URL: '' };
    const first = (running = startScript(own));
    await waitForOutput(first, /✔ ferretdb on mongodb:/, 60_000);
    const isService = (args: string) => /apps\/[\w-]+\/src\/main\.[jt]s/.test(args);
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
      const began = Date.now();
      const s = startScript({ DATA_DIR: dataDir, GATEWAY_PORT: String(port), MONGO_URL: '', NATS_URL: '' });
      expect(await s.exited).toEqual({ code: 1, signal: null });
      expect(Date.now() - began).toBeLessThan(5000);
      // one line with the hint
      expect(s.output()).toBe(
        `npm start: GATEWAY_PORT ${port} is in use (another npm start?): stop what listens on it, or choose another, e.g. GATEWAY_PORT=${port + 1} npm start\n`,
      );
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

  it('a NATS_URL where nothing listens: one clear line within seconds (once for the five services), the gateway alive and not ready, then it gives up with exit 1', async () => {
    const deadPort = await freePort();
    const port = await freePort();
    const began = Date.now();
    running = startScript({ DATA_DIR: dataDir, GATEWAY_PORT: String(port), NATS_URL: `nats://127.0.0.1:${deadPort}`, CONNECT_TIMEOUT_SECONDS: '6' });
    const line = new RegExp(
      `^\\[[\\w-]+\\] warn: cannot connect to NATS at nats://127\\.0\\.0\\.1:${deadPort}: connection refused; retrying in 0\\.5 s$`,
      'gm',
    );
    await waitForOutput(running, line, 15_000);
    process.stdout.write(`start-script: the NATS line came ${Date.now() - began} ms after the spawn\n`);
    expect(Date.now() - began).toBeLessThan(15_000);

    // the gateway (the heaviest to load) answers on its port, alive and not ready, while it retries
    const status = (path: string) =>
      fetch(`http://127.0.0.1:${port}${path}`).then(
        (r) => r.status,
        () => 0,
      );
    const deadline = Date.now() + 10_000;
    while ((await status('/health')) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await status('/health')).toBe(200);
    expect(await status('/health/ready')).toBe(503);

    expect(await running.exited).toEqual({ code: 1, signal: null });
    const out = running.output();
    expect(out.match(line)).toHaveLength(1);
    expect(out).toMatch(
      new RegExp(`\\] fatal: cannot connect to NATS at nats://127\\.0\\.0\\.1:${deadPort} \\(gave up after \\d+ s\\): connection refused\\n`),
    );
    expect(out).toMatch(/✖ [\w-]+ exited \(code 1\) during start-up/);
    expect(out).not.toContain('    at '); // no stack trace
  }, 60_000);

  it('REPLICAS=2 NATS_CLUSTER=3: a JetStream cluster of three, two processes of every service, the round-robin on GATEWAY_PORT over both gateways; SIGTERM stops all', async () => {
    const clusterDir = mkdtempSync(join(tmpdir(), 'start-script-cluster-'));
    const port = await freePort();
    try {
      running = startScript({ ...OWN_SERVERS, DATA_DIR: clusterDir, GATEWAY_PORT: String(port), REPLICAS: '2', NATS_CLUSTER: '3' });
      await waitForOutput(running, /^ {2}try {4}curl .*\n/m, 180_000);
      const out = running.output();
      for (const n of [1, 2, 3]) expect(out).toMatch(new RegExp(`✔ nats-server n${n} \\(JetStream cluster\\)`));
      for (const service of ['identity', 'membership', 'authorization', 'audit-log', 'gateway'])
        for (const r of [1, 2]) expect(out).toContain(`✔ ${service}#${r} ready`);
      const rr = /✔ round-robin on port (\d+) over the gateways on (\d+), (\d+)/.exec(out);
      expect(rr?.[1]).toBe(String(port));
      const token = readFileSync(join(clusterDir, 'admin-token'), 'utf8').trim();
      // a new connection per request (no keep-alive): the round-robin sends them to both gateways
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } });
        expect(res.status).toBe(200);
      }
      for (const gw of [rr![2], rr![3]]) expect((await fetch(`http://127.0.0.1:${gw}/health/ready`)).status).toBe(200);
      const children = descendants(running.proc.pid!);
      expect(children.filter((c) => /nats-server/.test(c.args))).toHaveLength(3);
      expect(children.filter((c) => /apps\/[a-z-]+\/src\/main\.js/.test(c.args))).toHaveLength(10);
      await stopsCleanly(
        running,
        children.map((c) => c.pid),
      );
    } finally {
      rmSync(clusterDir, { recursive: true, force: true });
    }
  }, 240_000);

  it('NATS_CLUSTER=2 or an invalid REPLICAS is refused before anything starts, naming the variable', async () => {
    for (const [name, value, message] of [
      ['NATS_CLUSTER', '2', /invalid NATS_CLUSTER "2": a JetStream cluster needs a majority/],
      ['REPLICAS', 'two', /invalid REPLICAS "two": must be a number from 1 to 8/],
    ] as const) {
      const s = startScript({ DATA_DIR: dataDir, GATEWAY_PORT: String(await freePort()), [name]: value });
      expect(await s.exited).toEqual({ code: 1, signal: null });
      expect(s.output()).toMatch(message);
    }
  });
});
