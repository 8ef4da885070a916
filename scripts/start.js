#!/usr/bin/env node
/**
 * `npm start`: the whole system on one machine.
 *
 * 1. Infrastructure: MONGO_URL / NATS_URL when set; otherwise local `nats-server -js` and FerretDB (built into
 *    .tools/bin with Go when missing) or `mongod`, with data under DATA_DIR (default ./.data) on ports
 *    27018 / 4223 when free; otherwise `docker compose up --build` with docker-compose.yml.
 * 2. identity, membership, authorization and audit-log (each on a free HTTP_PORT for /health/ready), then the
 *    gateway on GATEWAY_PORT (default 3000); their JSON log lines go to stdout as `[service] {...}` (QUIET=1
 *    keeps only lines that are not JSON, e.g. a generated bootstrap token).
 * 3. Ctrl-C / SIGTERM stops the services (SIGTERM, SIGKILL after 10 s), then the servers it started; exit 0.
 *    A service that dies stops everything with exit 1.
 * 4. Should this script die without stopping them (SIGKILL, a crash), its children die with it: each child
 *    is listed to scripts/start-reaper.js over a pipe, and the reaper stops them when the pipe closes.
 * 5. Local servers keep their data under DATA_DIR, which one instance holds at a time: the lock file
 *    DATA_DIR/npm-start.pid holds the owner's pid; a second instance refuses while that owner lives, and takes
 *    over a lock whose owner is gone. (docs/operations.md "npm start")
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..');
const SERVICES = ['identity', 'membership', 'authorization', 'audit-log'];
const env = { ...process.env };
const QUIET = env.QUIET === '1';
const DATA_DIR = path.resolve(env.DATA_DIR || path.join(ROOT, '.data'));
const LOCK = path.join(DATA_DIR, 'npm-start.pid');
const children = []; // { name, proc, kind: 'infra' | 'service', tail: string[] }
const ready = new Set(); // names of the services that answered /health/ready
let stopping = false;
let docker; // the `docker compose up` process, when that is how the system runs

const say = (msg) => process.stdout.write(`${msg}\n`);
const fail = (msg) => (process.stderr.write(`npm start: ${msg}\n`), process.exit(1));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const which = (name) => {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
};
const firstExisting = (...candidates) => candidates.find((c) => c && fs.existsSync(c));
// FerretDB built with a plain `go install` panics at start (see scripts/install-ferretdb.sh): skip such binaries.
const runs = (bin) => bin && spawnSync(bin, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

const freePort = () =>
  new Promise((ok, ko) => {
    const srv = net.createServer().once('error', ko);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
const portFree = (port) =>
  new Promise((ok) => {
    const srv = net.createServer().once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
const preferredPort = async (port) => ((await portFree(port)) ? port : freePort());

/**
 * The reaper (scripts/start-reaper.js) stops the children listed to it when this script's end of its stdin
 * pipe closes, which the kernel does however this script dies. It has a session of its own, so neither
 * Ctrl-C nor a signal to this script's process group reaches it.
 */
let reaper;
function startReaper() {
  reaper = spawn(process.execPath, [path.join(__dirname, 'start-reaper.js')], { detached: true, stdio: ['pipe', 'ignore', 'inherit'] });
  reaper.stdin.on('error', () => undefined);
}
const tellReaper = (line) => reaper && !reaper.stdin.destroyed && reaper.stdin.write(`${line}\n`);
async function stopReaper() {
  if (!reaper || reaper.exitCode !== null || reaper.signalCode !== null) return;
  const exited = new Promise((r) => reaper.once('exit', r));
  reaper.stdin.end();
  await Promise.race([exited, sleep(2000)]);
}

const pidAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};
/** Whether `pid` is a live npm start (not a process that got the pid of a dead one, e.g. after a reboot). */
function isLiveLauncher(pid) {
  if (!pidAlive(pid)) return false;
  const cmdline = `/proc/${pid}/cmdline`;
  const command = fs.existsSync(cmdline)
    ? fs.readFileSync(cmdline, 'utf8')
    : (spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).stdout ?? '');
  return !command.trim() || command.includes('start.js');
}

/**
 * Takes DATA_DIR for this instance: creates the lock file with this pid (exclusively), refuses while another
 * live npm start holds it, takes it over when its owner is gone. Released when this script exits.
 */
function lockDataDir() {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(LOCK, `${process.pid}\n`, { flag: 'wx' });
      process.on('exit', () => {
        try {
          if (fs.readFileSync(LOCK, 'utf8').trim() === String(process.pid)) fs.unlinkSync(LOCK);
        } catch {
          // already gone
        }
      });
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(LOCK, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Number.isInteger(owner) && owner > 0 && isLiveLauncher(owner))
      fail(`DATA_DIR ${DATA_DIR} is in use by another npm start (pid ${owner}); stop it first, or set another DATA_DIR (lock file ${LOCK})`);
    say(`Taking over ${LOCK}: its npm start (pid ${Number.isNaN(owner) ? '?' : owner}) is gone`);
    fs.rmSync(LOCK, { force: true });
  }
  fail(`could not take the lock file ${LOCK}`);
}

/** Spawns a child in its own process group (so Ctrl-C reaches only this script, which stops them in order). */
function run(name, kind, bin, args, extraEnv = {}) {
  const proc = spawn(bin, args, { cwd: ROOT, env: { ...env, ...extraEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid) tellReaper(`+${proc.pid} ${kind}`);
  const child = { name, proc, kind, tail: [] };
  for (const [stream, out] of [[proc.stdout, process.stdout], [proc.stderr, process.stderr]]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      child.tail = [...child.tail.slice(-19), line];
      if (kind === 'service' && !(QUIET && out === process.stdout && line.startsWith('{'))) out.write(`[${name}] ${line}\n`);
    });
  }
  proc.on('error', (err) => child.tail.push(String(err)));
  proc.on('exit', (code, signal) => {
    tellReaper(`-${proc.pid}`);
    if (stopping) return;
    const why = `${name} exited (${signal ?? `code ${code}`})${ready.size < SERVICES.length + 1 ? ' during start-up' : ''}`;
    const tail = kind === 'infra' || QUIET ? `\n${child.tail.join('\n')}` : '';
    process.stderr.write(`✖ ${why}${tail}\n`);
    void shutdown(1);
  });
  children.push(child);
  return child;
}

async function waitForPort(child, port, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!stopping) {
    const open = await new Promise((ok) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), ok(true))).once('error', () => ok(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      fail(`${child.name} does not accept connections on 127.0.0.1:${port} after ${timeoutMs / 1000} s:\n${child.tail.join('\n')}`);
    await sleep(100);
  }
}

function findFerretDb() {
  const local = path.join(ROOT, '.tools/bin/ferretdb');
  const found = [local, which('ferretdb')].find(runs);
  if (found || !which('go')) return found;
  say('FerretDB not found: building it into .tools/bin with Go (scripts/install-ferretdb.sh)…');
  spawnSync('bash', [path.join(ROOT, 'scripts/install-ferretdb.sh')], { cwd: ROOT, stdio: 'inherit' });
  return runs(local) ? local : undefined;
}

/** Fills env.MONGO_URL / env.NATS_URL, starting local servers; false when the binaries are missing. */
async function startInfrastructure() {
  const natsBin = env.NATS_URL ? undefined : firstExisting(which('nats-server'), '/usr/sbin/nats-server', path.join(ROOT, '.tools/bin/nats-server'));
  const ferret = env.MONGO_URL ? undefined : findFerretDb();
  const mongod = env.MONGO_URL || ferret ? undefined : which('mongod');
  if ((!env.NATS_URL && !natsBin) || (!env.MONGO_URL && !ferret && !mongod)) return false;
  lockDataDir();
  if (natsBin) {
    const port = await preferredPort(4223);
    fs.mkdirSync(path.join(DATA_DIR, 'nats'), { recursive: true });
    const c = run('nats-server', 'infra', natsBin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(DATA_DIR, 'nats')]);
    await waitForPort(c, port);
    if (stopping) return true;
    env.NATS_URL = `nats://127.0.0.1:${port}`;
    say(`✔ nats-server (JetStream) on ${env.NATS_URL}, data in ${path.join(DATA_DIR, 'nats')}`);
  }
  if (!env.MONGO_URL) {
    const port = await preferredPort(27018);
    const dir = path.join(DATA_DIR, ferret ? 'ferretdb' : 'mongod');
    fs.mkdirSync(dir, { recursive: true });
    const c = ferret
      ? run('ferretdb', 'infra', ferret, ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--state-dir=${dir}`,
          `--listen-addr=127.0.0.1:${port}`, `--debug-addr=127.0.0.1:${await freePort()}`, '--telemetry=disable', '--log-level=warn'])
      : run('mongod', 'infra', mongod, ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', dir]);
    await waitForPort(c, port);
    if (stopping) return true;
    env.MONGO_URL = `mongodb://127.0.0.1:${port}/`;
    say(`✔ ${c.name} on ${env.MONGO_URL}, data in ${dir}`);
  }
  return true;
}

function runDockerCompose() {
  const file = path.join(ROOT, 'docker-compose.yml');
  if (!fs.existsSync(file)) fail(`nats-server / ferretdb binaries are missing and ${file} does not exist`);
  say('nats-server / FerretDB binaries not found: running `docker compose up --build` instead');
  docker = spawn('docker', ['compose', '-f', file, 'up', '--build'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  if (docker.pid) tellReaper(`+${docker.pid} infra`);
  docker.on('exit', (code, signal) => {
    tellReaper(`-${docker.pid}`);
    void stopReaper().then(() => process.exit(code ?? (signal ? 0 : 1)));
  });
}

/** HTTP status of a GET (0 when nothing answers). */
const getStatus = (url) =>
  new Promise((ok) => {
    const req = http.get(url, { timeout: 2000 }, (res) => (res.resume(), ok(res.statusCode)));
    req.on('error', () => ok(0)).on('timeout', () => req.destroy());
  });

async function waitReady(name, port, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!stopping && (await getStatus(`http://127.0.0.1:${port}/health/ready`)) !== 200) {
    if (Date.now() > deadline) {
      process.stderr.write(`✖ ${name} is not ready after ${timeoutMs / 1000} s (http://127.0.0.1:${port}/health/ready)\n`);
      return shutdown(1);
    }
    await sleep(500);
  }
  if (!stopping) ready.add(name), say(`✔ ${name} ready`);
}

async function stop(list, timeoutMs) {
  const alive = list.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
  const exited = alive.map((c) => new Promise((r) => c.proc.once('exit', r)));
  alive.forEach((c) => c.proc.kill('SIGTERM'));
  await Promise.race([Promise.all(exited), sleep(timeoutMs)]);
  alive.forEach((c) => c.proc.exitCode === null && c.proc.signalCode === null && c.proc.kill('SIGKILL'));
  await Promise.all(exited);
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await stop(children.filter((c) => c.kind === 'service'), 10_000);
  await stop(children.filter((c) => c.kind === 'infra'), 10_000);
  await stopReaper();
  process.exit(code);
}

async function main() {
  const gw = env.GATEWAY_PORT || '3000';
  if (!/^\d{1,5}$/.test(gw) || Number(gw) > 65535) fail(`invalid GATEWAY_PORT "${gw}": must be a port number (0 picks a free one)`);
  const gatewayPort = Number(gw) || (await freePort());
  if (!(await portFree(gatewayPort))) fail(`GATEWAY_PORT ${gatewayPort} is in use (another npm start?); stop it or choose another port`);
  startReaper();
  if (!env.BOOTSTRAP_ADMIN_EMAIL) {
    env.BOOTSTRAP_ADMIN_EMAIL = 'admin@example.com';
    say('BOOTSTRAP_ADMIN_EMAIL is not set: the bootstrap admin is admin@example.com');
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(sig, () => {
      if (docker) docker.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig);
      else if (stopping) void stop(children, 0); // a second Ctrl-C: no more waiting
      else say(`\n${sig}: stopping…`), void shutdown(0);
    });
  if (!(env.MONGO_URL && env.NATS_URL) && !(await startInfrastructure())) {
    if (spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 }).status === 0) return runDockerCompose();
    fail(`no MongoDB-wire server / NATS server. Either
  - set MONGO_URL=mongodb://… and NATS_URL=nats://… (existing servers), or
  - put nats-server (https://github.com/nats-io/nats-server/releases) and ferretdb (npm run infra:ferretdb, needs Go)
    or mongod on PATH or in .tools/bin, or
  - start Docker, and npm start runs docker compose up --build.`);
  }
  if (stopping) return;
  const node = (name, extraEnv) =>
    run(name, 'service', process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', `apps/${name}/src/main.ts`], extraEnv);
  await Promise.all(
    SERVICES.map(async (name) => {
      const port = await freePort();
      if (stopping) return;
      node(name, { HTTP_PORT: String(port) });
      await waitReady(name, port);
    }),
  );
  if (stopping) return;
  node('gateway', { GATEWAY_PORT: String(gatewayPort) });
  await waitReady('gateway', gatewayPort);
  if (!stopping) say(`Gateway listening on http://localhost:${gatewayPort} (API at /api/v1, docs at /docs)`);
}

// Should this script exit without stopping them (fail()), it kills them; on SIGKILL the reaper does.
process.on('exit', () => children.forEach((c) => c.proc.exitCode === null && c.proc.signalCode === null && c.proc.kill('SIGKILL')));
main().catch((err) => (process.stderr.write(`npm start: ${err.stack ?? err}\n`), void shutdown(1)));
