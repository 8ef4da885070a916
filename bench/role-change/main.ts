/**
 * bench/role-change: membership's part of `PUT …/people/{id}/role` at concurrency 8 on one organization of
 * 1,000 members, as the service runs it (the store, the organization cache, the outbox relay publishing to
 * JetStream), without the gateway and the other services: one command at a time per organization (`maxBatch`
 * 1, and a flush before every answer: the path before group commit) vs group commit (batches, a flush only
 * when a commit lowers someone's access), alternating rounds in one run. Each worker alternates its person
 * between Member and Admin (half the changes lower access, as in bench/gateway). Prints req/s, p50/p99 and
 * MongoDB commands per role change.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/role-change/main.ts [seconds=5] [rounds=3]
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { builtInRoleId, subjectNaming, systemMeta } from '@app/contracts';
import { createEventStore, createOutboxRelay } from '@app/event-store';
import { connectNats, ensureStreams } from '@app/messaging';
import { findBinary, startFerretDb, startNatsServer, type LocalServer } from '../../libs/testing/src/local-servers';
import { OrganizationCache, runOrganizationCommand, type OrganizationDeps } from '../../apps/membership/src/organization/organization.repository';
import type { OrganizationMetrics } from '../../apps/membership/src/organization/organization.metrics';

const PEOPLE = 1000;
const WORKERS = 8;

async function main() {
  const seconds = Number(process.argv[2] ?? 5);
  const rounds = Number(process.argv[3] ?? 3);
  const servers: LocalServer[] = [];
  let mongoUrl = process.env.MONGO_URL;
  let natsUrl = process.env.NATS_URL;
  if (!mongoUrl) servers.push(await startFerretDb(findBinary('ferretdb', [process.env.FERRETDB_BIN])!));
  if (!natsUrl) servers.push(await startNatsServer(findBinary('nats-server', [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server'])!));
  mongoUrl ??= servers[0].url;
  natsUrl ??= servers[servers.length - 1].url;
  const naming = subjectNaming(`bench${process.pid}.`);
  const mongo = await new MongoClient(mongoUrl, { monitorCommands: true }).connect();
  let commands = 0;
  mongo.on('commandStarted', () => commands++);
  const nc = await connectNats(natsUrl, 'bench-role-change');
  await ensureStreams(nc, naming);
  const db = mongo.db(`bench_role_change_${process.pid}`);
  const relay = createOutboxRelay({ commits: db.collection('event_commits'), js: nc.jetstream(), naming, service: 'membership' });
  const store = createEventStore(db, { service: 'membership', onAppended: (c) => relay.onAppended(c) });
  await store.ensureIndexes();
  try {
    const organizationId = randomUUID();
    const ownerId = randomUUID();
    const seedDeps: OrganizationDeps = { db, store, customRoles: async () => [] };
    const meta = () => ({ ...systemMeta(randomUUID()), actor: { id: ownerId } });
    await runOrganizationCommand(
      seedDeps,
      { kind: 'CreateOrganization', organizationId, name: 'Bench', slug: 'bench', ownerId, ownerUsername: 'owner', via: 'creator' },
      meta(),
    );
    const people = Array.from({ length: PEOPLE }, (_, i) => ({ userId: randomUUID(), username: `p${i}` }));
    for (let i = 0; i < PEOPLE; i += 100)
      await runOrganizationCommand(seedDeps, { kind: 'AddMembers', organizationId, users: people.slice(i, i + 100), via: 'invite' }, meta());
    const roles = [builtInRoleId(organizationId, 'admin'), builtInRoleId(organizationId, 'member')];

    const measure = async (maxBatch: number, flushAlways: boolean) => {
      // where the time goes: the runner's phases, summed (ms) with their counts
      const phases = new Map<string, { ms: number; n: number }>();
      let counting = false;
      const metrics: OrganizationMetrics = {
        phase: (phase, seconds) => {
          if (!counting) return;
          const p = phases.get(phase) ?? { ms: 0, n: 0 };
          phases.set(phase, { ms: p.ms + seconds * 1000, n: p.n + 1 });
        },
        batch: () => undefined,
      };
      const deps: OrganizationDeps = {
        db,
        store,
        cache: new OrganizationCache(100, maxBatch),
        customRoles: async () => [],
        flush: (streamId) => relay.flushStream(streamId),
        metrics,
      };
      // before group commit every command waited for the broker: a flush of its own after the call
      const run = async (w: number, n: number) => {
        const subjectId = people[w].userId;
        await runOrganizationCommand(
          deps,
          { kind: 'AssignRole', organizationId, subjectType: 'user', subjectId, projectId: null, roleId: roles[n % 2] },
          meta(),
        );
        if (flushAlways) await relay.flushStream(`organization-${organizationId}`);
      };
      await run(0, 0); // load into the cache
      const latencies: number[] = [];
      const before = commands;
      counting = true;
      const deadline = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: WORKERS }, async (_, w) => {
          for (let n = 1; Date.now() < deadline; n++) {
            const t = process.hrtime.bigint();
            await run(w, n);
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
          }
        }),
      );
      counting = false;
      latencies.sort((a, b) => a - b);
      const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
      return { perSecond: latencies.length / seconds, p50: q(0.5), p99: q(0.99), mongo: (commands - before) / latencies.length, phases };
    };
    const rows: Array<[string, Awaited<ReturnType<typeof measure>>]> = [];
    for (let r = 0; r < rounds; r++) {
      rows.push(['one at a time, flush each', await measure(1, true)]);
      rows.push(['group commit', await measure(32, false)]);
    }
    process.stdout.write(
      `bench/role-change: ${WORKERS} workers, ${seconds}s per round, ${PEOPLE} members; ${process.env.MONGO_URL ? 'MONGO_URL' : 'FerretDB'}\n\n`,
    );
    process.stdout.write(`${'mode'.padEnd(28)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'Mongo/req'.padStart(11)}\n`);
    for (const [name, m] of rows)
      process.stdout.write(
        `${name.padEnd(28)}${m.perSecond.toFixed(1).padStart(8)}${m.p50.toFixed(1).padStart(9)}${m.p99.toFixed(1).padStart(9)}${m.mongo.toFixed(2).padStart(11)}\n`,
      );
    process.stdout.write('\nphases (mean ms, count) per round: queued, decide and command per change; the others per batch\n');
    for (const [name, m] of rows)
      process.stdout.write(`${name.padEnd(28)}${[...m.phases].map(([phase, p]) => `${phase} ${(p.ms / p.n).toFixed(1)} (${p.n})`).join(', ')}\n`);
  } finally {
    await relay.stop();
    await db.dropDatabase().catch(() => undefined);
    await mongo.close();
    await nc.drain();
    for (const s of servers.reverse()) await s.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
