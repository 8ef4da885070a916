#!/usr/bin/env node
/**
 * `npm start`: the whole system on one machine.
 *
 * 1. Infrastructure: MONGO_URL / NATS_URL when set; otherwise local `nats-server -js` and FerretDB (built into
 *    .tools/bin with Go when missing) or `mongod`, started together, with data under DATA_DIR (default
 *    ./.data) on ports 27018 / 4223 when free; otherwise `docker compose up --build` with docker-compose.yml.
 *    Meanwhile, compiled JavaScript: `tsc -b tsconfig.build.json` (incremental, into dist/), skipped when no
 *    source is newer than the last build; then the web console (apps/console, Vite) into dist/console when its
 *    sources are newer than its build (scripts/build-console.js).
 * 2. The five services at once, while the servers are still starting, each its own `node dist/apps/<service>/src/main.js` (path aliases resolved
 *    by tsconfig-paths against dist/): identity, membership, authorization and audit-log each on a free
 *    HTTP_PORT for /health/ready, the gateway on GATEWAY_PORT (default 3000, checked free before anything
 *    starts) with its /metrics on METRICS_PORT when set, else a free port. Their JSON log lines go to stdout as `[service] {...}`; QUIET=1 keeps only warnings and errors
 *    (as `[service] warn: …`, the same line from several services once) and lines that are not JSON.
 *    A service that cannot reach MongoDB or NATS says so within seconds and gives up after
 *    CONNECT_TIMEOUT_SECONDS (30 here), which stops everything.
 * 3. When all five are ready: a short banner, the last lines, with the gateway URL, the bootstrap admin and
 *    its API token: BOOTSTRAP_ADMIN_TOKEN when set, otherwise one generated on the first start into
 *    DATA_DIR/admin-token (mode 0600) and printed then. The token is tried (GET /api/v1/me); when it is
 *    refused (users existed before, so the BOOTSTRAP_* variables were ignored) the banner says how to start
 *    afresh.
 * 4. Ctrl-C / SIGTERM stops the services (SIGTERM, SIGKILL after 10 s), then the servers it started; exit 0.
 *    A service that dies stops everything with exit 1.
 * 5. Should this script die without stopping them (SIGKILL, a crash), its children die with it: each child
 *    is listed to scripts/start-reaper.js over a pipe, and the reaper stops them when the pipe closes.
 * 6. Local servers keep their data under DATA_DIR, which one instance holds at a time: the lock file
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
const DIST = path.join(ROOT, 'dist');
const CONSOLE_SOURCES = path.join(ROOT, 'apps', 'console'); // built by Vite (buildWebConsole), not tsc
const SERVICES = ['identity', 'membership', 'authorization', 'audit-log', 'gateway'];
const env = { ...process.env };
const QUIET = env.QUIET === '1';
const DATA_DIR = path.resolve(env.DATA_DIR || path.join(ROOT, '.data'));
const LOCK = path.join(DATA_DIR, 'npm-start.pid');
const TOKEN_FILE = path.join(DATA_DIR, 'admin-token');
const LEVELS = { 40: 'warn', 50: 'error', 60: 'fatal' };
const children = []; // { name, proc, kind: 'infra' | 'service', tail: string[] }
const ready = new Set(); // names of the services that answered /health/ready
const shown = new Map(); // QUIET: message → when it was last shown (the same line from several services once)
let stopping = false;
let localServers = false; // whether the databases live under DATA_DIR
let docker; // the `docker compose up` process, when that is how the system runs
let building; // the `tsc -b` process while it runs
let TOPOLOGY = { replicas: 1, natsCluster: 1 };

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
const portFree = (port, host = '127.0.0.1') =>
  new Promise((ok) => {
    const srv = net.createServer().once('error', () => ok(false));
    srv.listen(port, host, () => srv.close(() => ok(true)));
  });
const preferredPort = async (port) => ((await portFree(port)) ? port : freePort());

/**
 * Scale-out on one machine (docs/scaling.md "Cluster topology"): REPLICAS processes of every service (default 1)
 * and a JetStream cluster of NATS_CLUSTER nats-servers (default 1: one plain server). Both 1: as before.
 */
function topology() {
  const count = (name, max) => {
    const v = env[name] || '1';
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) fail(`invalid ${name} "${v}": must be a number from 1 to ${max}`);
    return Number(v);
  };
  const natsCluster = count('NATS_CLUSTER', 5);
  if (natsCluster === 2) fail('invalid NATS_CLUSTER "2": a JetStream cluster needs a majority of its nodes, so 1, 3 or more');
  return { replicas: count('REPLICAS', 8), natsCluster };
}

/**
 * NATS_CLUSTER > 1: that many `nats-server -js` in one cluster on loopback (client ports from 4223 when free,
 * routes between all of them, each its own store under DATA_DIR/nats-n<i>); the streams get
 * min(3, size) replicas (NATS_STREAM_REPLICAS, unless set). Returns the promises of their ports.
 */
async function startNatsCluster(natsBin, size) {
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await preferredPort(4223 + i), route: await freePort(), monitor: await freePort() });
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(',');
  env.NATS_URL = ports.map((p) => `nats://127.0.0.1:${p.client}`).join(',');
  env.NATS_STREAM_REPLICAS ||= String(Math.min(3, size));
  return ports.map((p, i) => {
    const dir = path.join(DATA_DIR, `nats-n${i + 1}`);
    fs.mkdirSync(dir, { recursive: true });
    const args = ['-a', '127.0.0.1', '-p', String(p.client), '-m', String(p.monitor), '-js', '-sd', dir];
    args.push('--server_name', `n${i + 1}`, '--cluster_name', 'people-platform', '--cluster', `nats://127.0.0.1:${p.route}`, '--routes', routes);
    const c = run(`nats-n${i + 1}`, 'infra', natsBin, args);
    return waitForPort(c, p.client).then(
      () => !stopping && say(`✔ nats-server n${i + 1} (JetStream cluster) on nats://127.0.0.1:${p.client}, data in ${dir}`),
    );
  });
}

/**
 * REPLICAS > 1: the gateways listen on free ports and this small round-robin takes GATEWAY_PORT: each new
 * connection goes to the next gateway, or the one after when that one refuses (stopped, restarting).
 */
function startRoundRobin(port, backends) {
  let next = 0;
  const server = net.createServer((client) => {
    client.pause();
    const attempt = (left) => {
      const backend = backends[next++ % backends.length];
      const upstream = net.connect(backend, '127.0.0.1');
      upstream.once('connect', () => {
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      upstream.once('error', () => (left > 1 ? attempt(left - 1) : client.destroy()));
    };
    attempt(backends.length);
  });
  server.listen(port, '0.0.0.0');
  return server;
}

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
  for (const [stream, out] of [
    [proc.stdout, process.stdout],
    [proc.stderr, process.stderr],
  ]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      child.tail = [...child.tail.slice(-19), line];
      if (kind !== 'service') return;
      if (!QUIET || !line.startsWith('{')) return out.write(`[${name}] ${line}\n`);
      const compact = quietLine(line);
      if (compact) out.write(`[${name}] ${compact}\n`);
    });
  }
  proc.on('error', (err) => child.tail.push(String(err)));
  proc.on('exit', (code, signal) => {
    tellReaper(`-${proc.pid}`);
    if (stopping) return;
    const why = `${name} exited (${signal ?? `code ${code}`})${ready.size < SERVICES.length * TOPOLOGY.replicas ? ' during start-up' : ''}`;
    const tail = kind === 'infra' ? `\n${child.tail.join('\n')}` : '';
    process.stderr.write(`✖ ${why}${tail}\n`);
    void shutdown(1);
  });
  children.push(child);
  return child;
}

/** QUIET: a JSON log line of level warn or above as `warn: <msg>`, unless the same text was shown in the last 10 s. */
function quietLine(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (!(entry.level >= 40) || typeof entry.msg !== 'string') return undefined;
  const last = shown.get(entry.msg);
  if (last && Date.now() - last < 10_000) return undefined;
  shown.set(entry.msg, Date.now());
  return `${LEVELS[entry.level] ?? 'error'}: ${entry.msg}`;
}

async function waitForPort(child, port, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!stopping) {
    const open = await new Promise((ok) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), ok(true))).once('error', () => ok(false));
    });
    if (open) return;
    if (Date.now() > deadline) fail(`${child.name} does not accept connections on 127.0.0.1:${port} after ${timeoutMs / 1000} s:\n${child.tail.join('\n')}`);
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

/**
 * Fills env.MONGO_URL / env.NATS_URL, spawning local servers for those not set (both at once): undefined when
 * the binaries are missing; otherwise `{ up }`, a promise of the servers accepting connections. The services
 * are spawned meanwhile: their first connection waits for a server that is still starting.
 */
async function startInfrastructure() {
  const natsBin = env.NATS_URL ? undefined : firstExisting(which('nats-server'), '/usr/sbin/nats-server', path.join(ROOT, '.tools/bin/nats-server'));
  const ferret = env.MONGO_URL ? undefined : findFerretDb();
  const mongod = env.MONGO_URL || ferret ? undefined : which('mongod');
  if ((!env.NATS_URL && !natsBin) || (!env.MONGO_URL && !ferret && !mongod)) return undefined;
  lockDataDir();
  const up = [];
  const started = (c, port, what) => up.push(waitForPort(c, port).then(() => !stopping && say(`✔ ${what}`)));
  if (natsBin && TOPOLOGY.natsCluster > 1) up.push(...(await startNatsCluster(natsBin, TOPOLOGY.natsCluster)));
  else if (natsBin) {
    const port = await preferredPort(4223);
    const dir = path.join(DATA_DIR, 'nats');
    fs.mkdirSync(dir, { recursive: true });
    env.NATS_URL = `nats://127.0.0.1:${port}`;
    started(
      run('nats-server', 'infra', natsBin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]),
      port,
      `nats-server (JetStream) on ${env.NATS_URL}, data in ${dir}`,
    );
  }
  if (!env.MONGO_URL) {
    const port = await preferredPort(27018);
    const dir = path.join(DATA_DIR, ferret ? 'ferretdb' : 'mongod');
    fs.mkdirSync(dir, { recursive: true });
    const c = ferret
      ? run('ferretdb', 'infra', ferret, [
          '--handler=sqlite',
          `--sqlite-url=file:${dir}/`,
          `--state-dir=${dir}`,
          `--listen-addr=127.0.0.1:${port}`,
          `--debug-addr=127.0.0.1:${await freePort()}`,
          '--telemetry=disable',
          '--log-level=warn',
        ])
      : run('mongod', 'infra', mongod, ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', dir]);
    env.MONGO_URL = `mongodb://127.0.0.1:${port}/`;
    localServers = true;
    started(c, port, `${c.name} on ${env.MONGO_URL}, data in ${dir}`);
  }
  return { up: Promise.all(up) };
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

/** Whether no source (apps/, libs/, the tsconfig files) is newer than dist/'s last build: a walk of ~30 ms. */
function distUpToDate() {
  const info = path.join(DIST, '.tsbuildinfo');
  if (!fs.existsSync(info)) return false;
  const built = fs.statSync(info).mtimeMs;
  const newer = (p) =>
    p === CONSOLE_SOURCES
      ? false
      : fs.statSync(p).isDirectory()
        ? fs.readdirSync(p).some((entry) => newer(path.join(p, entry)))
        : /\.(ts|json)$/.test(p) && fs.statSync(p).mtimeMs > built;
  return !['tsconfig.json', 'tsconfig.build.json', 'apps', 'libs'].some((p) => newer(path.join(ROOT, p)));
}

/** The web console (apps/console) into dist/console when its sources are newer (scripts/build-console.js, docs/console.md). */
function buildWebConsole() {
  const began = Date.now();
  try {
    if (require('./build-console').buildConsole({ quiet: true }))
      say(`✔ built the web console into dist/console in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  } catch (err) {
    if (!fs.existsSync(path.join(DIST, 'console', 'index.html')))
      say(`npm start: the web console could not be built (${err.message.split('\n')[0]}); the API works without it`);
  }
}

/**
 * dist/ up to date: nothing to do when no source changed since the last build; otherwise
 * `tsc -b tsconfig.build.json`, incremental (dist/.tsbuildinfo). Without TypeScript (a production install)
 * an existing dist/ is used as it is.
 */
async function build() {
  if (distUpToDate()) return;
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  } catch {
    if (fs.existsSync(path.join(DIST, 'apps/gateway/src/main.js'))) return;
    fail('dist/ is missing and TypeScript is not installed: run npm install');
  }
  const began = Date.now();
  building = spawn(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [building.stdout, building.stderr]) stream.on('data', (d) => (output += d));
  const code = await new Promise((r) => building.once('exit', r));
  building = undefined;
  if (stopping) return;
  if (code !== 0) fail(`the build failed (tsc -b tsconfig.build.json):\n${output.trim()}`);
  if (Date.now() - began > 3000) say(`✔ compiled to dist/ (tsc -b) in ${((Date.now() - began) / 1000).toFixed(1)} s`);
}

/**
 * The bootstrap admin's token for identity: BOOTSTRAP_ADMIN_TOKEN when set; otherwise DATA_DIR/admin-token,
 * generated (identity's own generator, from dist/) and written with mode 0600 on the first start.
 */
function adminToken() {
  if (env.BOOTSTRAP_ADMIN_TOKEN) return { token: env.BOOTSTRAP_ADMIN_TOKEN, source: 'env' };
  if (fs.existsSync(TOKEN_FILE)) {
    fs.chmodSync(TOKEN_FILE, 0o600);
    const token = fs.readFileSync(TOKEN_FILE, 'utf8').trim();
    if (token) return { token, source: 'file' };
  }
  const { generateApiToken } = require(path.join(DIST, 'apps/identity/src/credentials/api-token.js'));
  const token = generateApiToken();
  fs.mkdirSync(DATA_DIR, { recursive: true });
  fs.writeFileSync(TOKEN_FILE, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(TOKEN_FILE, 0o600); // an existing empty file keeps its mode otherwise
  return { token, source: 'generated' };
}

/** HTTP status of a GET (0 when nothing answers). */
const getStatus = (url, headers = {}) =>
  new Promise((ok) => {
    const req = http.get(url, { timeout: 2000, headers }, (res) => (res.resume(), ok(res.statusCode)));
    req.on('error', () => ok(0)).on('timeout', () => req.destroy());
  });

async function waitReady(name, port, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!stopping && (await getStatus(`http://127.0.0.1:${port}/health/ready`)) !== 200) {
    if (Date.now() > deadline) {
      process.stderr.write(`✖ ${name} is not ready after ${timeoutMs / 1000} s (http://127.0.0.1:${port}/health/ready)\n`);
      return shutdown(1);
    }
    await sleep(100);
  }
  // a service's /health and /metrics (not the gateway's: its port is the public API)
  const where = name.startsWith('gateway') ? '' : ` (/health, /metrics on http://127.0.0.1:${port})`;
  if (!stopping) (ready.add(name), say(`✔ ${name} ready${where}`));
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
  building?.kill('SIGTERM');
  await stop(
    children.filter((c) => c.kind === 'service'),
    10_000,
  );
  await stop(
    children.filter((c) => c.kind === 'infra'),
    10_000,
  );
  await stopReaper();
  process.exit(code);
}

/** The last lines: where the gateway is, who the admin is and where the token is (tried first). */
async function banner(gatewayPort, admin, began) {
  const base = `http://localhost:${gatewayPort}`;
  const me = await getStatus(`http://127.0.0.1:${gatewayPort}/api/v1/me`, { Authorization: `Bearer ${admin.token}` });
  await sleep(150); // the gateway's access log line of that request comes before the banner, not after it
  const file = path.relative(process.cwd(), TOKEN_FILE).startsWith('..') ? TOKEN_FILE : path.relative(process.cwd(), TOKEN_FILE);
  const where = admin.source === 'env' ? 'BOOTSTRAP_ADMIN_TOKEN' : `the token in ${file}`;
  say(`\n✔ ready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  say(`Gateway listening on ${base} (API at /api/v1, docs at /docs)`);
  if (me === 401) {
    const afresh = localServers ? `remove ${DATA_DIR}` : 'drop the databases at MONGO_URL';
    say(`⚠ ${where} is refused (GET /api/v1/me: 401): users existed before it was set, so BOOTSTRAP_ADMIN_* were ignored (or it was reset since).`);
    const had = admin.source === 'env' && fs.existsSync(TOKEN_FILE) ? `the token in ${file}` : 'the token you had';
    return say(`  Use ${had}, or start afresh: stop npm start, ${afresh}, npm start.`);
  }
  if (me !== 200) say(`⚠ the admin's token could not be tried (GET /api/v1/me: ${me || 'no answer'})`);
  say(`  admin  ${env.BOOTSTRAP_ADMIN_EMAIL}, API token: ${admin.source === 'env' ? 'BOOTSTRAP_ADMIN_TOKEN' : `${file} (mode 0600)`}`);
  if (admin.source === 'generated') say(`  token  ${admin.token}   (new; shown once)`);
  const bearer = admin.source === 'env' ? '<BOOTSTRAP_ADMIN_TOKEN>' : `$(cat ${file})`;
  say(`  try    curl -H "Authorization: Bearer ${bearer}" ${base}/api/v1/me`);
}

/**
 * Spawns every service (REPLICAS processes of each, `name#<n>` in the log when more than one) and returns the
 * promises of their readiness. One gateway takes GATEWAY_PORT itself; several listen on free ports behind the
 * round-robin on GATEWAY_PORT.
 */
async function startServices(gatewayPort) {
  const { replicas } = TOPOLOGY;
  const gatewayPorts = [];
  const starts = [];
  for (const name of SERVICES)
    for (let r = 1; r <= replicas; r++) {
      const label = replicas > 1 ? `${name}#${r}` : name;
      const port = name === 'gateway' && replicas === 1 ? gatewayPort : await freePort();
      if (stopping) return [];
      if (name === 'gateway') gatewayPorts.push(port);
      // the gateway's /metrics: METRICS_PORT when set (the first gateway), else a free port (two npm starts must not both want 9464)
      const metricsPort = (r === 1 && env.METRICS_PORT) || String(await freePort());
      const portEnv = name === 'gateway' ? { GATEWAY_PORT: String(port), METRICS_PORT: metricsPort } : { HTTP_PORT: String(port) };
      run(label, 'service', process.execPath, ['-r', 'tsconfig-paths/register', path.join(DIST, `apps/${name}/src/main.js`)], portEnv);
      starts.push(waitReady(label, port));
    }
  if (replicas > 1) {
    startRoundRobin(gatewayPort, gatewayPorts);
    say(`✔ round-robin on port ${gatewayPort} over the gateways on ${gatewayPorts.join(', ')}`);
  }
  return starts;
}

async function main() {
  const began = Date.now();
  TOPOLOGY = topology();
  const gw = env.GATEWAY_PORT || '3000';
  if (!/^\d{1,5}$/.test(gw) || Number(gw) > 65535) fail(`invalid GATEWAY_PORT "${gw}": must be a port number (0 picks a free one)`);
  const gatewayPort = Number(gw) || (await freePort());
  if (!(await portFree(gatewayPort, '0.0.0.0')) || !(await portFree(gatewayPort)))
    fail(
      `GATEWAY_PORT ${gatewayPort} is in use (another npm start?): stop what listens on it, or choose another, e.g. GATEWAY_PORT=${gatewayPort + 1} npm start`,
    );
  startReaper();
  env.BOOTSTRAP_ADMIN_EMAIL ||= 'admin@example.com';
  env.CONNECT_TIMEOUT_SECONDS ||= '30';
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(sig, () => {
      if (docker) docker.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig);
      else if (stopping)
        void stop(children, 0); // a second Ctrl-C: no more waiting
      else (say(`\n${sig}: stopping…`), void shutdown(0));
    });
  const infrastructure = env.MONGO_URL && env.NATS_URL ? { up: Promise.resolve() } : await startInfrastructure();
  if (!infrastructure) {
    if (spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 }).status === 0) return runDockerCompose();
    fail(`no MongoDB-wire server / NATS server. Either
  - set MONGO_URL=mongodb://… and NATS_URL=nats://… (existing servers), or
  - put nats-server (https://github.com/nats-io/nats-server/releases) and ferretdb (npm run infra:ferretdb, needs Go)
    or mongod on PATH or in .tools/bin, or
  - start Docker, and npm start runs docker compose up --build.`);
  }
  await build();
  if (stopping) return;
  buildWebConsole();
  const admin = adminToken();
  env.BOOTSTRAP_ADMIN_TOKEN = admin.token;
  // compiled JavaScript; tsconfig.json's @app/* paths resolved under dist/
  env.TS_NODE_BASEURL = DIST;
  await Promise.all([infrastructure.up, ...(await startServices(gatewayPort))]);
  if (!stopping) await banner(gatewayPort, admin, began);
}

// Should this script exit without stopping them (fail()), it kills them; on SIGKILL the reaper does.
process.on('exit', () => children.forEach((c) => c.proc.exitCode === null && c.proc.signalCode === null && c.proc.kill('SIGKILL')));
main().catch((err) => (process.stderr.write(`npm start: ${err.stack ?? err}\n`), void shutdown(1)));
