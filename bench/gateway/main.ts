/**
 * bench/gateway: the request path as a user meets it. Starts the whole system the way `npm start` does
 * (scripts/start.js: each service its own process), seeds an organization of 1,000 people, 50 groups, 20
 * custom roles and 100 projects, then runs closed-loop load for each kind of request and prints req/s, p50,
 * p99, errors and the ratio to `GET /health` on the same gateway, with the NATS requests and the MongoDB
 * commands per request, counted (not estimated). Each read row runs in turns with `/health` (four slices of
 * each, `/health` first in every other pair) and its ratio is the median of the slices' ratios: this machine's
 * speed moves by up to 2× from one five-second window to the next, with nothing but a trivial HTTP server
 * running, so a ratio of two rows measured a minute apart says more about the machine than about the request.
 * The counters:
 * - NATS: subscriptions of this process to the request subjects count every service request (`cmd.` / `qry.` subjects)
 *   and every JetStream API request (`$JS.API.`, e.g. stream info; consumer fetches and acks excluded);
 * - MongoDB: FerretDB's own counter of the commands it served (`ferretdb_client_requests_total`), or
 *   `serverStatus.opcounters` on a real MongoDB (MONGO_URL).
 * It also times the stack's start-up with data present (a second start), and prints the CPU per request of each
 * kind of process, this one (the load generator) included, and the machine's stolen time (`steal`: a row that
 * had much of it ran slower). `/health` is also measured on its own, before and after the read rows: the
 * ratio of the second to the first (`to row 1`) shows how much the machine itself moved during the run.
 *
 *   npm run bench:gateway -- [seconds=10] [concurrency=32]
 *
 * BENCH_PROFILE=<text>[|<text>…]: the rows whose name contains one of them are CPU-profiled in every service (V8's profiler, started
 * and stopped by SIGWINCH through bench/lib/cpu-profile-hook.js); the profiles go to a directory it prints (one per slice of a read row), and
 * `bench/lib/cpuprofile-top.ts <file>` lists where the time went. A profiled row's figures are not comparable.
 *
 * Uses MONGO_URL / NATS_URL when set (a NATS of its own is better: the counters see every message on it),
 * otherwise starts FerretDB and nats-server on free ports.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from 'nats';
import { findBinary, freePort, startFerretDb, startNatsServer, type LocalServer } from '../../libs/testing/src/local-servers';
import { cpuByKind, cpuSpent, servicePids } from '../lib/process-cpu';
import { load, mergeResults, printTable, type LoadOptions, type LoadResult } from '../lib/http-load';
import { startStack, stopStack } from '../startup/stack';

const TOKEN = 'ppt_bench-gateway-token-0123456789abcdef';
const PEOPLE = 1000;
const GROUPS = 50;
const ROLES = 20;
const PROJECTS = 100;
/** slices of a read row, each in turn with as long a slice of `/health` (`paired`) */
const SLICES = 4;
/** how long the people list may take to catch up with the seeding (BENCH_PEOPLE_WAIT_S) */
const PEOPLE_WAIT_MS = Number(process.env.BENCH_PEOPLE_WAIT_S ?? 1800) * 1000;

interface Counters {
  nats: number;
  jsApi: number;
  mongo: number;
}

async function main() {
  const seconds = Number(process.argv[2] ?? 10);
  const concurrency = Number(process.argv[3] ?? 32);
  const servers: LocalServer[] = [];
  let mongoUrl = process.env.MONGO_URL;
  let natsUrl = process.env.NATS_URL;
  let metricsUrl: string | undefined;
  if (!mongoUrl) {
    const ferret = await startFerretDb(findBinary('ferretdb', [process.env.FERRETDB_BIN])!);
    servers.push(ferret);
    mongoUrl = ferret.url;
    metricsUrl = ferret.metricsUrl;
  }
  if (!natsUrl) {
    const nats = await startNatsServer(findBinary('nats-server', [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server'])!);
    servers.push(nats);
    natsUrl = nats.url;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  // the services' log lines (npm start's output), kept after the run
  const logFile = join(tmpdir(), `bench-gateway-${process.pid}.log`);
  process.stdout.write(`the stack's output goes to ${logFile}\n`);
  const port = await freePort();
  const gatewayMetrics = `http://127.0.0.1:${await freePort()}/metrics`;
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    MONGO_URL: mongoUrl,
    NATS_URL: natsUrl,
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(port),
    METRICS_PORT: new URL(gatewayMetrics).port,
    BOOTSTRAP_ADMIN_EMAIL: 'bench@example.com',
    BOOTSTRAP_ADMIN_TOKEN: TOKEN,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const profiled = process.env.BENCH_PROFILE;
  if (profiled) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-profiles-'));
    Object.assign(env, {
      BENCH_PROFILE_DIR: dir,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, '../lib/cpu-profile-hook.js')}`,
    });
    process.stdout.write(`CPU profiles of the rows matching "${profiled}" go to ${dir}\n`);
  }
  /** starts or stops the services' profilers (cpu-profile-hook.js) around a row that matches BENCH_PROFILE */
  const toggleProfiles = (row: string) => {
    if (profiled && profiled.split('|').some((p) => row.includes(p))) for (const pid of servicePids()) process.kill(pid, 'SIGWINCH');
  };
  const mongo = await MongoClient.connect(mongoUrl);
  const nc = await connect({ servers: natsUrl });
  const counters = countNats(nc);
  const mongoCount = async () => (metricsUrl ? ferretCommands(metricsUrl) : opcounters(mongo));
  const snapshot = async () => ({ ...counters, mongoBy: await mongoCount() });

  let stack: ChildProcess | undefined;
  try {
    const cold = await startStack(env, base, undefined, logFile).then((r) => ((stack = r.child), r.allReadyMs));
    process.stdout.write(`stack ready (first start, empty databases): ${(cold / 1000).toFixed(1)} s\n`);
    const seed = await seedOrganization(base);
    process.stdout.write(`seeded: ${PEOPLE} people, ${GROUPS} groups, ${ROLES} custom roles, ${PROJECTS} projects in ${(seed.ms / 1000).toFixed(0)} s\n`);
    // the people list answers 503 until membership's people view has applied the seeding
    const caughtUp = await untilOk(`${base}/api/v1/organizations/${seed.org}/people`, PEOPLE_WAIT_MS);
    process.stdout.write(`people list caught up ${(caughtUp / 1000).toFixed(0)} s after the seeding\n`);
    const session = await sessionOf(base, 'p0', seed.temporaryPassword);
    await stopStack(stack);
    const warm = await startStack(env, base, undefined, logFile).then((r) => ((stack = r.child), r.allReadyMs));
    process.stdout.write(`stack ready (second start, data present): ${(warm / 1000).toFixed(1)} s\n`);

    const auth = { Authorization: `Bearer ${TOKEN}` };
    const org = `${base}/api/v1/organizations/${seed.org}`;
    // every read row once, as it will run: each row's first seconds would otherwise include the JIT compiling its
    // path, in the gateway and in this client (the first row, /health, ran 1.5 times slower than the same row later)
    const checkBody = { method: 'POST', body: () => ({ permissions: ['organization.people.view'] }) };
    await load('warm-up', `${base}/health`, {}, concurrency, 2);
    await load('warm-up', `${base}/api/v1/me`, auth, concurrency, 2);
    await load('warm-up', `${org}/permissions/check`, auth, concurrency, 2, checkBody);
    await load('warm-up', `${org}/people`, auth, concurrency, 2);
    const rows: Array<{ result: LoadResult; ratios?: number[]; per: Counters; mongoBy: string; cpu: Record<string, number> }> = [];
    /** One load of a row, `secs` long, with what the stack spent on it: counters and CPU by kind of process. */
    const sample = async (name: string, url: string, c: number, options: LoadOptions, headers: Record<string, string>, secs: number) => {
      const before = await snapshot();
      const cpuBefore = cpuByKind();
      const selfBefore = process.cpuUsage();
      toggleProfiles(name);
      const result = await load(name, url, headers, c, secs, options);
      toggleProfiles(name);
      const self = process.cpuUsage(selfBefore);
      // the load generator itself (this process): what bounds a row whose server side costs little, e.g. /health
      const cpu: Record<string, number> = { ...cpuSpent(cpuBefore, cpuByKind()), 'load generator': (self.user + self.system) / 1e6 };
      const after = await snapshot();
      const mongoBy = new Map([...after.mongoBy].map(([command, count]) => [command, count - (before.mongoBy.get(command) ?? 0)]));
      return { result, nats: after.nats - before.nats, jsApi: after.jsApi - before.jsApi, mongoBy, cpu };
    };
    type Sample = Awaited<ReturnType<typeof sample>>;
    /** A row from its samples: per request, the counters and CPU summed over them. */
    const record = (name: string, samples: Sample[], ratios?: number[]) => {
      const result = mergeResults(
        name,
        samples.map((s) => s.result),
      );
      const n = Math.max(1, result.requests);
      const total = (f: (s: Sample) => number) => samples.reduce((sum, s) => sum + f(s), 0);
      const commands = new Set(samples.flatMap((s) => [...s.mongoBy.keys()]));
      const mongoBy = [...commands]
        .map((command) => [command, total((s) => s.mongoBy.get(command) ?? 0) / n] as const)
        .filter(([, p]) => p > 0)
        .sort((a, b) => b[1] - a[1]);
      const kinds = new Set(samples.flatMap((s) => Object.keys(s.cpu)));
      rows.push({
        result,
        ratios,
        per: { nats: total((s) => s.nats) / n, jsApi: total((s) => s.jsApi) / n, mongo: mongoBy.reduce((sum, [, p]) => sum + p, 0) },
        mongoBy: mongoBy.map(([command, p]) => `${command} ${p.toFixed(3)}`).join(', '),
        cpu: Object.fromEntries([...kinds].map((kind) => [kind, (total((s) => s.cpu[kind] ?? 0) * 1000) / n])),
      });
      return result;
    };
    const measure = async (name: string, url: string, c: number, options: LoadOptions = {}, headers: Record<string, string> = auth) =>
      record(name, [await sample(name, url, c, options, headers, seconds)]);
    /**
     * A read row in turns with `/health`: SLICES slices of each, `/health` first in every other pair, so that the
     * machine's drift during the row (2× within seconds on a shared machine) falls on both alike. Its ratio is
     * the median of the slices' ratios; its other figures are its own slices'.
     */
    const paired = async (name: string, url: string, options: LoadOptions = {}, headers: Record<string, string> = auth) => {
      const slice = seconds / SLICES;
      const baseline = () => load('GET /health', `${base}/health`, {}, concurrency, slice);
      const samples: Sample[] = [];
      const ratios: number[] = [];
      for (let i = 0; i < SLICES; i++) {
        const healthFirst = i % 2 === 0 ? await baseline() : undefined;
        const own = await sample(name, url, concurrency, options, headers, slice);
        const health = healthFirst ?? (await baseline());
        samples.push(own);
        ratios.push(own.result.rps / health.rps);
      }
      return record(name, samples, ratios);
    };
    // the seeding's events still being applied after the restart (identity's users catch-up takes one event at a
    // time) are not the rows' cost: wait for every projection to have caught up
    const lagWaited = await untilDurablesCaughtUp(nc);
    process.stdout.write(`durable consumers caught up ${(lagWaited / 1000).toFixed(1)} s after the warm-up\n\n`);
    // what the stack spends with no request at all (sweeps, leases, snapshot schedules): every row below pays it too
    const idleBefore = cpuByKind();
    const idleMongoBefore = await mongoCount();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const idle = cpuSpent(idleBefore, cpuByKind());
    const idleMongo = [...(await mongoCount())]
      .map(([command, count]) => [command, (count - (idleMongoBefore.get(command) ?? 0)) / seconds] as const)
      .filter(([, perSecond]) => perSecond > 0)
      .map(([command, perSecond]) => `${command} ${perSecond.toFixed(1)}`)
      .join(', ');
    const health = await measure('GET /health', `${base}/health`, concurrency, {}, {});
    await paired('GET /api/v1/me (API token)', `${base}/api/v1/me`);
    await paired('GET /api/v1/me (session)', `${base}/api/v1/me`, {}, { Authorization: `Bearer ${session}` });
    await paired('POST …/permissions/check', `${org}/permissions/check`, checkBody);
    await paired('GET …/people (first page)', `${org}/people`);
    // the baseline again: its ratio to the first shows how much the machine moved during the rows
    await measure('GET /health (again)', `${base}/health`, concurrency, {}, {});
    const roles = [seed.memberRole, seed.customRole];
    // warm-up: the first role change after the restart loads the organization (snapshot and newer commits) and
    // membership's view of the custom roles; measured here is the steady state, not that first load
    await load('warm-up', `${org}/people/{id}/role`, auth, 8, 2, {
      method: 'PUT',
      body: (_worker, n) => ({ roleId: roles[n % 2] }),
      url: (worker) => `${org}/people/${seed.userIds[worker + 8]}/role`,
    });
    await new Promise((r) => setTimeout(r, 3000)); // what the warm-up's timed-out requests left queued
    const membershipMetrics = lastServiceMetricsUrl(logFile, 'membership');
    const timesBefore = await roleChangeTimes(gatewayMetrics, membershipMetrics);
    const roleRow = await measure('PUT …/people/{id}/role (c=8)', `${org}/people/{id}/role`, 8, {
      method: 'PUT',
      body: (_worker, n) => ({ roleId: roles[n % 2] }),
      url: (worker) => `${org}/people/${seed.userIds[worker]}/role`,
    });
    const timesAfter = await roleChangeTimes(gatewayMetrics, membershipMetrics);

    process.stdout.write(
      `bench/gateway: ${seconds}s per row, closed loop, ${concurrency} connections (8 for the role change); ${metricsUrl ? 'FerretDB' : 'MongoDB'}\n\n`,
    );
    printTable(rows.map((r) => r.result));
    // ratio: a paired row's median slice ratio (its /health slices measured in turns with it), else to the first /health
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
    };
    process.stdout.write(
      `\n${'request'.padEnd(34)}${'ratio'.padStart(9)}${'slices'.padStart(12)}${'to row 1'.padStart(10)}${'NATS/req'.padStart(10)}${'JS API/req'.padStart(12)}${'Mongo/req'.padStart(11)}  statuses\n`,
    );
    for (const { result, ratios, per } of rows) {
      const ratio = ratios ? median(ratios) : result.rps / health.rps;
      const range = ratios ? `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}` : '';
      process.stdout.write(
        `${result.name.padEnd(34)}${ratio.toFixed(2).padStart(9)}${range.padStart(12)}${(result.rps / health.rps).toFixed(2).padStart(10)}` +
          `${per.nats.toFixed(2).padStart(10)}${per.jsApi.toFixed(2).padStart(12)}${per.mongo.toFixed(2).padStart(11)}  ${JSON.stringify(result.statuses)}\n`,
      );
    }
    process.stdout.write(`\nMongoDB commands per request, by command (counted over the row: background work included)\n`);
    process.stdout.write(`${'idle, commands per second'.padEnd(34)}${idleMongo || '-'}\n`);
    for (const { result, mongoBy } of rows) process.stdout.write(`${result.name.padEnd(34)}${mongoBy || '-'}\n`);
    // steal: the machine's CPU time the hypervisor gave to others during the row (a row with much of it ran slower)
    const kinds = ['gateway', 'identity', 'membership', 'authorization', 'audit-log', 'nats-server', 'ferretdb', 'load generator', 'steal'];
    const width = (k: string) => Math.max(14, k.length + 2);
    process.stdout.write(
      `\nCPU ms per request, by process (/proc, every process of the kind on the machine)\n${'request'.padEnd(34)}${kinds.map((k) => k.padStart(width(k))).join('')}\n`,
    );
    process.stdout.write(
      `${`idle, CPU ms per second`.padEnd(34)}${kinds.map((k) => (((idle[k] ?? 0) * 1000) / seconds).toFixed(1).padStart(width(k))).join('')}\n`,
    );
    for (const { result, cpu } of rows)
      process.stdout.write(`${result.name.padEnd(34)}${kinds.map((k) => (cpu[k] ?? 0).toFixed(2).padStart(width(k))).join('')}\n`);
    process.stdout.write(`\nstart-up with data present: ${(warm / 1000).toFixed(1)} s (first start ${(cold / 1000).toFixed(1)} s)\n`);
    printRoleChangeTimes(timesBefore, timesAfter, roleRow.requests);
  } finally {
    await stopStack(stack);
    await nc.close();
    await mongo.close();
    for (const s of servers.reverse()) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The `/metrics` URL of a service as `npm start` last said it was ready (`✔ membership ready (/health, /metrics on …)`). */
function lastServiceMetricsUrl(logFile: string, service: string): string | undefined {
  const found = [...readFileSync(logFile, 'utf8').matchAll(new RegExp(`✔ ${service} ready \\(/health, /metrics on (http://\\S+)\\)`, 'g'))];
  return found.length ? `${found[found.length - 1][1]}/metrics` : undefined;
}

/**
 * Waits (at most 5 minutes) until every durable consumer on the server has nothing left to apply or to ack
 * (`num_pending`, `num_ack_pending`: a restarted service's durable consumer gets back what the stopped process
 * held only after its ack wait, so the services' own lag figures say 0 until then); the ms waited.
 */
async function untilDurablesCaughtUp(nc: NatsConnection): Promise<number> {
  const began = Date.now();
  const jsm = await nc.jetstreamManager();
  const behind = async () => {
    let sum = 0;
    for (const stream of await jsm.streams.list().next())
      for (const c of await jsm.consumers.list(stream.config.name).next()) if (c.config.durable_name) sum += c.num_pending + c.num_ack_pending;
    return sum;
  };
  while (Date.now() - began < 300_000 && (await behind()) > 0) await new Promise((r) => setTimeout(r, 500));
  return Date.now() - began;
}

type Series = Map<string, { sum: number; count: number }>;

/** `_sum` and `_count` of the histograms named, by name and labels (the `service` label left out). */
async function histograms(url: string | undefined, names: string[]): Promise<Series> {
  const series: Series = new Map();
  const text = url
    ? await fetch(url).then(
        (r) => (r.ok ? r.text() : ''),
        () => '',
      )
    : '';
  for (const line of text.split('\n')) {
    const m = /^(\w+)_(sum|count)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !names.includes(m[1])) continue;
    const labels = (m[3] ?? '').split(',').filter((l) => l && !l.startsWith('service='));
    const key = `${m[1]}{${labels.join(',')}}`;
    const entry = series.get(key) ?? { sum: 0, count: 0 };
    entry[m[2] as 'sum' | 'count'] = Number(m[4]);
    series.set(key, entry);
  }
  return series;
}

/** The role change's timing series: the gateway's route and NATS requests, membership's command phases. */
async function roleChangeTimes(gateway: string, membership: string | undefined): Promise<Series> {
  const [g, m] = await Promise.all([
    histograms(gateway, ['http_request_duration_seconds', 'nats_request_duration_seconds']),
    histograms(membership, ['membership_organization_command_phase_seconds', 'membership_organization_batch_commands']),
  ]);
  return new Map([...g, ...m]);
}

/** Where the role change's time went during its row: mean ms of each series, and per request. */
function printRoleChangeTimes(before: Series, after: Series, requests: number): void {
  const rows: string[] = [];
  for (const [key, a] of after) {
    if (!/role|check|assign-role|membership_organization/.test(key) || /outcome="(?!ok)/.test(key)) continue;
    const b = before.get(key) ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (count <= 0) continue;
    const sum = a.sum - b.sum;
    const batch = key.startsWith('membership_organization_batch_commands');
    rows.push(
      `${key.replace(/_seconds|_duration/g, '').padEnd(86)}${String(count).padStart(7)}${(batch ? sum / count : (sum / count) * 1000).toFixed(batch ? 2 : 1).padStart(10)}${(batch ? 0 : (sum / Math.max(1, requests)) * 1000).toFixed(1).padStart(10)}`,
    );
  }
  process.stdout.write(`\nrole change (c=8), where the time went (/metrics of the gateway and membership during its row; ${requests} requests)\n`);
  process.stdout.write(`${'series'.padEnd(86)}${'count'.padStart(7)}${'mean ms'.padStart(10)}${'ms/req'.padStart(10)}\n`);
  process.stdout.write(`${rows.join('\n')}\n(membership_organization_batch_commands: mean = commands per batch)\n`);
}

/** Requests to services and to the JetStream API seen on the server (every request subject of the account). */
function countNats(nc: NatsConnection): Counters {
  const c: Counters = { nats: 0, jsApi: 0, mongo: 0 };
  // requests only, never '>': a copy of every reply (a page of people is ~20 KB) and of every event delivered would
  // cost nats-server and this process as much as the requests themselves, and be counted as the rows' cost
  for (const subject of ['cmd.>', 'qry.>', '*.cmd.>', '*.qry.>']) nc.subscribe(subject, { callback: () => void c.nats++ });
  nc.subscribe('$JS.API.>', {
    callback: (_err, msg) => {
      if (!msg.subject.startsWith('$JS.API.CONSUMER.MSG.NEXT')) c.jsApi++;
    },
  });
  return c;
}

/** The commands FerretDB served, by command name. */
async function ferretCommands(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const by = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('ferretdb_client_requests_total')) continue;
    const command = /command="([^"]*)"/.exec(line)?.[1] ?? '?';
    by.set(command, (by.get(command) ?? 0) + Number(line.split(' ').pop()));
  }
  return by;
}

/** MongoDB's operations by kind (insert, query, update, delete, getmore, command). */
async function opcounters(mongo: MongoClient): Promise<Map<string, number>> {
  const status = await mongo.db('admin').command({ serverStatus: 1 });
  return new Map(Object.entries(status.opcounters as Record<string, number>).map(([k, v]) => [k, Number(v)]));
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': createHash('sha256')
          .update(`${method} ${url} ${JSON.stringify(body)}`)
          .digest('hex'),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(300_000),
    });
    if (res.ok) return (res.status === 204 ? {} : await res.json()) as T;
    // the seeding retries with the same Idempotency-Key (applied once) when a service was too slow
    if (res.status >= 500 && attempt < 5) {
      process.stderr.write(`seeding: ${method} ${url} answered ${res.status}, retrying with the same Idempotency-Key\n`);
      continue;
    }
    throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  }
}

async function seedOrganization(base: string) {
  const began = Date.now();
  const api = `${base}/api/v1`;
  const org = (await call<{ id: string }>('POST', `${api}/organizations`, { name: `Bench ${Date.now()}` })).id;
  const userIds: string[] = [];
  let temporaryPassword = '';
  const batch = 100;
  for (let i = 0; i < PEOPLE; i += batch) {
    const accounts = Array.from({ length: Math.min(batch, PEOPLE - i) }, (_, k) => ({ email: `p${i + k}@bench.example.com`, username: `p${i + k}` }));
    const reply = await call<{ created: Array<{ userId: string; temporaryPassword: string }> }>('POST', `${api}/organizations/${org}/accounts`, { accounts });
    userIds.push(...reply.created.map((c) => c.userId));
    temporaryPassword ||= reply.created[0].temporaryPassword;
  }
  const roleIds: string[] = [];
  for (let i = 0; i < ROLES; i++)
    roleIds.push(
      (
        await call<{ id: string }>('POST', `${api}/organizations/${org}/roles`, {
          name: `Role ${i}`,
          description: '',
          scope: 'organization',
          permissions: ['organization.people.view', 'organization.groups.view'],
        })
      ).id,
    );
  for (let i = 0; i < GROUPS; i++)
    await call('POST', `${api}/organizations/${org}/groups`, { name: `Group ${i}`, description: '', memberIds: userIds.slice(i * 10, i * 10 + 10) });
  for (let i = 0; i < PROJECTS; i++) await call('POST', `${api}/organizations/${org}/projects`, { name: `project-${i}` });
  for (let i = 100; i < 200; i++) await call('PUT', `${api}/organizations/${org}/people/${userIds[i]}/role`, { roleId: roleIds[i % ROLES] });
  const roles = await call<{ items: Array<{ id: string; name: string }> }>('GET', `${api}/organizations/${org}/roles?scope=organization`);
  const memberRole = roles.items.find((r) => r.name === 'Member')!.id;
  return { org, userIds, temporaryPassword, memberRole, customRole: roleIds[0], ms: Date.now() - began };
}

/**
 * A login session of `login` (a plain member of the seeded organization): its first password change, which
 * answers a session; when that timed out after all (its outcome unknown, the temporary password maybe gone),
 * a login with the new password.
 */
async function sessionOf(base: string, login: string, temporaryPassword: string): Promise<string> {
  const password = 'bench-session-password';
  try {
    return (await call<{ token: string }>('POST', `${base}/api/v1/auth/password`, { login, currentPassword: temporaryPassword, newPassword: password })).token;
  } catch {
    return (await call<{ token: string }>('POST', `${base}/api/v1/auth/login`, { login, password })).token;
  }
}

/** ms until `url` answers 200 with the bench's token (polled every second), or throws after `timeoutMs`. */
async function untilOk(url: string, timeoutMs: number): Promise<number> {
  const began = Date.now();
  for (;;) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
    if (res?.ok) return Date.now() - began;
    if (Date.now() - began > timeoutMs) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s (last: ${res?.status ?? 'no answer'})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
