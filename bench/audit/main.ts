/**
 * bench/audit: the audit log in one run.
 *
 *   npm run bench:audit -- [events=1000000] [steadySeconds=20]
 *
 * 1. ingestion: a backlog of 50,000 events published at once, the time until the projection has written
 *    all their entries (events/s);
 * 2. lag at a steady 1,000 events/s for `steadySeconds`: for every event, the time from its publish to the
 *    projection's checkpoint passing it (entries are written before the checkpoint, so from then on the
 *    entry is queryable), p50 and p99;
 * 3. rebuild: `events` events in the stream (one organization "big"), then the rebuild command; events/s;
 * 4. query: p99 of a filtered page (actorId + resource, 50 entries, through the NATS query) in the
 *    organization with `events` entries next to one with 1,000 entries, and the ratio.
 *
 * Infrastructure: MONGO_URL / NATS_URL when set; otherwise nats-server, and FerretDB on PostgreSQL when a
 * PostgreSQL answers on 127.0.0.1:5432 (trust auth; a fresh database `bench_audit_<random>`, dropped at the
 * end), else FerretDB on SQLite. Events are published straight to JetStream, as the services' outbox relays
 * do, so the figures are the audit log's alone. Everything runs in this process (2 cores on the dev machine).
 */
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { findBinary, freePort, startNatsServer, waitForPort, type LocalServer } from '../../libs/testing/src/local-servers';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';
import { percentile } from '../lib/http-load';

const ORG_ACTORS = 10;

async function startFerretOnPostgres(): Promise<(LocalServer & { db: string }) | undefined> {
  const bin = findBinary('ferretdb');
  const psql = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-tAc', 'select 1'], { encoding: 'utf8' });
  if (!bin || psql.status !== 0) return undefined;
  const db = `bench_audit_${randomBytes(3).toString('hex')}`;
  spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `create database ${db}`]);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ferret-pg-'));
  const proc = spawn(
    bin,
    [
      '--handler=postgresql',
      `--postgresql-url=postgres://postgres@127.0.0.1:5432/${db}`,
      `--listen-addr=127.0.0.1:${port}`,
      `--debug-addr=127.0.0.1:${await freePort()}`,
      `--state-dir=${dir}`,
      '--telemetry=disable',
      '--log-level=error',
      '--test-batch-size=1000',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, 30_000, proc);
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    kind: `ferretdb (PostgreSQL backend, database ${db})`,
    db,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `drop database if exists ${db} with (force)`]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pct = percentile;
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

async function main() {
  const total = Number(process.argv[2] ?? 1_000_000);
  const steadySeconds = Number(process.argv[3] ?? 20);
  const prefix = `bench${randomBytes(3).toString('hex')}.`;
  const stops: Array<() => Promise<void>> = [];
  let description: string;
  if (process.env.MONGO_URL && process.env.NATS_URL) description = 'MONGO_URL and NATS_URL';
  else {
    const pg = process.env.MONGO_URL ? undefined : await startFerretOnPostgres();
    if (pg) {
      process.env.MONGO_URL = pg.url;
      stops.push(pg.stop);
      const nats = await startNatsServer(findBinary('nats-server')!);
      process.env.NATS_URL = nats.url;
      stops.push(nats.stop);
      description = `${pg.kind}; nats-server`;
    } else {
      const infra = await provideTestInfrastructure();
      process.env.MONGO_URL = infra.mongoUrl;
      process.env.NATS_URL = infra.natsUrl;
      stops.push(infra.stop);
      description = infra.description;
    }
  }

  const { allEventsSubject, evtSubject, systemMeta, AuditLogSubjects, eventsStreamName, subjectNaming } = await import('@app/contracts');
  const naming = subjectNaming(prefix);
  const { loadConfig, startService } = await import('@app/platform');
  const { AuditLogModule } = await import('../../apps/audit-log/src/audit-log.module');
  const { readCheckpoint } = await import('../../apps/audit-log/src/projections/live-projection');
  void allEventsSubject;

  const database = `bench_audit_${randomBytes(3).toString('hex')}`;
  const service = await startService(
    loadConfig('audit-log', {
      MONGO_URL: process.env.MONGO_URL,
      MONGO_DB: database,
      NATS_URL: process.env.NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    }),
    AuditLogModule,
  );
  const db = service.infra.db;
  const nc: NatsConnection = await connect({ servers: process.env.NATS_URL!.split(',') });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const codec = JSONCodec();
  const out = (s: string) => process.stdout.write(`${s}\n`);

  const actors = Array.from({ length: ORG_ACTORS }, () => randomUUID());
  let n = 0;
  /** A membership event of `org`: mostly groups created and members added to them, from 10 actors. */
  function makeEvent(org: string, at = new Date()) {
    n++;
    const actor = actors[n % ORG_ACTORS];
    const groupId = randomUUID();
    const kind = n % 3;
    const data =
      kind === 0
        ? { organizationId: org, groupId, name: `Group ${n}`, description: 'bench', memberIds: [], roleId: randomUUID() }
        : kind === 1
          ? { organizationId: org, groupId, groupName: `Group ${n}`, userId: actors[(n + 1) % ORG_ACTORS] }
          : { organizationId: org, groupId, groupName: `Group ${n}`, userId: actors[(n + 2) % ORG_ACTORS] };
    const type = kind === 0 ? 'group.created' : kind === 1 ? 'group.member-added' : 'group.member-removed';
    return {
      subject: naming.subject(evtSubject('membership', type, 1)),
      event: {
        id: randomUUID(),
        type,
        version: 1,
        streamId: `organization-${org}`,
        streamVersion: n,
        service: 'membership',
        occurredAt: at.toISOString(),
        organizationId: org,
        data,
        metadata: { actor: { id: actor, username: `actor${n % ORG_ACTORS}` }, correlationId: 'bench', causationId: 'bench', medium: 'api' },
      },
    };
  }
  /** Publishes `count` events, `inFlight` unacknowledged at most; returns the last stream sequence. */
  async function publishMany(org: string, count: number, inFlight = 2000): Promise<number> {
    let last = 0;
    const pending = new Set<Promise<unknown>>();
    for (let i = 0; i < count; i++) {
      const { subject, event } = makeEvent(org);
      const p = js.publish(subject, codec.encode(event), { msgID: event.id }).then((ack) => (last = Math.max(last, ack.seq)));
      pending.add(p);
      p.finally(() => pending.delete(p));
      if (pending.size >= inFlight) await Promise.race(pending);
    }
    await Promise.all(pending);
    return last;
  }
  async function untilCheckpoint(seq: number, timeoutMs = 3_600_000) {
    const deadline = Date.now() + timeoutMs;
    while ((await readCheckpoint(db)) < seq) {
      if (Date.now() > deadline) throw new Error(`projection did not reach ${seq}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async function query(org: string, body: object): Promise<number> {
    const subject = AuditLogSubjects.listEntries();
    const t0 = process.hrtime.bigint();
    const reply = await nc.request(
      subject,
      codec.encode({ pattern: subject, id: randomUUID(), data: { meta: systemMeta(randomUUID()), body: { organizationId: org, consistent: false, ...body } } }),
      { timeout: 120_000 },
    );
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const decoded = codec.decode(reply.data) as { response?: { items: unknown[] }; err?: unknown };
    if (decoded.err || !decoded.response?.items.length) throw new Error(`query failed or empty: ${JSON.stringify(decoded.err)}`);
    return ms;
  }

  try {
    out(`bench/audit on ${description}; ${fmt(total)} events for rebuild and query`);
    const warm = randomUUID();
    await untilCheckpoint(await publishMany(warm, 2000));

    // 1. ingestion of a backlog
    const backlog = 50_000;
    const t0 = Date.now();
    const lastBacklog = await publishMany(randomUUID(), backlog);
    const published = Date.now();
    await untilCheckpoint(lastBacklog);
    const ingestSec = (Date.now() - t0) / 1000;
    out(
      `1. ingestion: ${fmt(backlog)} events published in ${((published - t0) / 1000).toFixed(1)} s, all entries written after ${ingestSec.toFixed(1)} s: ${fmt(backlog / ingestSec)} events/s`,
    );

    // 2. lag at a steady 1,000 events/s
    const steadyOrg = randomUUID();
    const sentAt = new Map<number, number>();
    const lags: number[] = [];
    let watching = true;
    let stoppedAt = 0;
    const watcher = (async () => {
      let seen = await readCheckpoint(db);
      while (watching || sentAt.size) {
        const cp = await readCheckpoint(db);
        if (cp > seen) {
          const now = Date.now();
          for (const [seq, at] of sentAt) {
            if (seq > cp) continue;
            lags.push(now - at);
            sentAt.delete(seq);
          }
          seen = cp;
        }
        await new Promise((r) => setTimeout(r, 2));
        if (!watching && Date.now() - stoppedAt > 30_000) break;
      }
    })();
    const steadyStart = Date.now();
    let sent = 0;
    const acks: Array<Promise<unknown>> = [];
    while (Date.now() - steadyStart < steadySeconds * 1000) {
      const due = Math.floor(((Date.now() - steadyStart) / 1000) * 1000);
      while (sent < due) {
        const { subject, event } = makeEvent(steadyOrg);
        const at = Date.now();
        acks.push(js.publish(subject, codec.encode(event), { msgID: event.id }).then((ack) => sentAt.set(ack.seq, at)));
        sent++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(acks);
    watching = false;
    stoppedAt = Date.now();
    await watcher;
    lags.sort((a, b) => a - b);
    out(
      `2. steady ${fmt(sent / steadySeconds)} events/s for ${steadySeconds} s: append→queryable lag p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms (${fmt(lags.length)} events; publish ack to checkpoint)`,
    );

    // 3. rebuild over `total` events: the projection is stopped while they are published
    const big = randomUUID();
    const small = randomUUID();
    const host = (
      service.app.get as (t: symbol) => { stop(): Promise<void>; rebuild(): Promise<{ events: number; entries: number; ms: number; phasesMs?: object }> }
    )((await import('../../apps/audit-log/src/projections/audit-host.token')).AUDIT_HOST);
    await host.stop();
    const inStream = (await jsm.streams.info(eventsStreamName(naming))).state.messages;
    const tp = Date.now();
    await publishMany(small, 1000);
    await publishMany(big, Math.max(0, total - inStream - 1000));
    out(
      `   (published ${fmt(total - inStream)} more events in ${((Date.now() - tp) / 1000).toFixed(0)} s; stream holds ${fmt((await jsm.streams.info(eventsStreamName(naming))).state.messages)})`,
    );
    const r = await host.rebuild();
    out(
      `3. rebuild: ${fmt(r.events)} events → ${fmt(r.entries)} entries in ${(r.ms / 1000).toFixed(1)} s: ${fmt(r.events / (r.ms / 1000))} events/s (${((r.ms / 1000) * (1_000_000 / r.events)).toFixed(0)} s per million events; phases ms ${JSON.stringify(r.phasesMs)})`,
    );
    // baseline in the same run: the driver inserting copies of the same entry documents, as the rebuild does
    // (1,000 per insertMany, 4 in flight, into a collection without secondary indexes)
    {
      const sample = await db.collection('audit_entries').find().limit(1000).toArray();
      const scratch = db.collection<{ _id: string }>(`raw_baseline_${randomBytes(3).toString('hex')}`);
      const rounds = 50;
      let next = 0;
      const tb = Date.now();
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < rounds) {
            const round = next++;
            await scratch.insertMany(
              sample.map((d) => ({ ...d, _id: `${d._id}:${round}` })),
              { ordered: false },
            );
          }
        }),
      );
      const rawRate = (rounds * sample.length) / ((Date.now() - tb) / 1000);
      await scratch.drop();
      out(`   baseline: raw insertMany of the same documents ${fmt(rawRate)} docs/s; rebuild/raw ${(r.entries / (r.ms / 1000) / rawRate).toFixed(2)}`);
    }

    // 4. filtered page, big organization vs small
    const filter = { actorId: actors[3], resource: 'Group', limit: 50 };
    const bigCount = await db.collection('audit_entries').countDocuments({ organizationId: big });
    const samples = Number(process.env.BENCH_QUERY_SAMPLES ?? 30);
    const measure = async (org: string) => {
      await query(org, filter);
      const times: number[] = [];
      for (let i = 0; i < samples; i++) times.push(await query(org, i % 2 ? filter : { ...filter, operation: 'Modified' }));
      return times.sort((a, b) => a - b);
    };
    const smallTimes = await measure(small);
    const bigTimes = await measure(big);
    out(
      `4. filtered page (actorId + resource [+ operation], 50 entries, NATS query, ${samples} samples each): ` +
        `${fmt(bigCount)} entries p50 ${pct(bigTimes, 50).toFixed(1)} ms p99 ${pct(bigTimes, 99).toFixed(1)} ms; ` +
        `1,000 entries p50 ${pct(smallTimes, 50).toFixed(1)} ms p99 ${pct(smallTimes, 99).toFixed(1)} ms; ratio p99 ${(pct(bigTimes, 99) / pct(smallTimes, 99)).toFixed(1)}`,
    );
    const explain = await db
      .collection('audit_entries')
      .find({ organizationId: big, actorId: actors[3], resource: 'Group' })
      .sort({ sortKey: -1 })
      .limit(51)
      .explain();
    out(`   server plan: ${JSON.stringify(explain.queryPlanner?.winningPlan ?? explain.queryPlanner?.Plan ?? explain).slice(0, 300)}`);
  } finally {
    await nc.close();
    await service.close();
    const mongo = await new MongoClient(process.env.MONGO_URL!).connect();
    await mongo
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
    const cleanup = await connect({ servers: process.env.NATS_URL!.split(',') });
    const m = await cleanup.jetstreamManager();
    for (const s of [eventsStreamName(naming), (await import('@app/contracts')).deadLetterStreamName(naming)]) await m.streams.delete(s).catch(() => false);
    await cleanup.close();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  },
);
