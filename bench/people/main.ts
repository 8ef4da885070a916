/**
 * bench/people: listing people of an organization of 100,000 members and 1,000 groups next to one of 100
 * members, in the same run, through the gateway (GET /api/v1/organizations/{org}/people).
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/people/main.ts [requests=200] [members=100000] [groups=1000]
 *
 * Both organizations are created through the API. Their people are then seeded straight into membership's
 * read model, in batches of 1,000, with the projection's own document builders (userPersonDocument,
 * groupPersonDocument, positionKey, and buildSearchNodes for the search index): replaying 101,000 events one at a time through JetStream and the
 * projection would take many minutes on FerretDB and measure the projection, not the listing. The seeded
 * organizations exist only in the read model (their aggregates hold the creator only), so the bench writes
 * nothing to them afterwards.
 *
 * With BENCH_COMMANDS=1 the same members are also appended to the organizations' event streams in commits
 * of 1,000 events with a snapshot at the end (seedAggregate), and POST groups is timed in both. Meant for
 * MongoDB: on FerretDB v1 the 50 MB of commits make the event store's unindexed queries (the relay's sweep
 * of unpublished commits, queries by stream) decode the whole table, and every command of the service
 * takes seconds (see docs/membership.md).
 *
 * Each user is in one or two groups; names come from small lists so that a name prefix matches 1 in 20.
 * Printed: p50/p99 of the first page (limit 50), of a common search (a first name: many matches) and of a
 * rare search (one user), for both organizations, and the ratios big/small.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { builtInRoleId, catalogueEvent, eventMetadata, systemMeta, type DomainEvent } from '@app/contracts';
import { createEventStore } from '@app/event-store';
import { loadOrganization, saveSnapshot } from '../../apps/membership/src/organization/organization.repository';
import { evolveOrganization, organizationStreamId } from '../../apps/membership/src/organization/organization.state';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';
import {
  groupPersonDocument,
  orgMeta,
  orgVersions,
  peopleOf,
  positionKey,
  userPersonDocument,
  type OrganizationMetaDocument,
  type PersonDocument,
} from '../../apps/membership/src/people/people.model';
import { buildSearchNodes, prefixesOf, searchNodeId, searchNodes } from '../../apps/membership/src/people/people.search';
import { percentile } from '../lib/http-load';

const FIRST = [
  'Maria',
  'John',
  'Aiko',
  'Pedro',
  'Olga',
  'Wei',
  'Fatima',
  'Liam',
  'Noor',
  'Sven',
  'Chloe',
  'Ravi',
  'Ines',
  'Tomas',
  'Yara',
  'Kofi',
  'Lena',
  'Mateo',
  'Hana',
  'Igor',
];
const LAST = ['Silva', 'Smith', 'Tanaka', 'Garcia', 'Ivanova', 'Chen', 'Khan', 'Murphy', 'Haddad', 'Berg'];

/** keys far above any JetStream sequence of the run, so seeded documents never collide with projected ones */
const SEED_BASE = 1_000_000_000_000;

async function seed(client: MongoClient, dbName: string, organizationId: string, members: number, groups: number, ownerDoc: boolean) {
  const db = client.db(dbName);
  const member = builtInRoleId(organizationId, 'member');
  const metaGroups: OrganizationMetaDocument['groups'] = {};
  const groupIds = Array.from({ length: groups }, (_, g) => `${organizationId.slice(0, 24)}${String(g).padStart(12, '0')}`);
  let seq = SEED_BASE;
  let batch: PersonDocument[] = [];
  const all: PersonDocument[] = [];
  const flush = async () => {
    if (batch.length) await peopleOf(db, organizationId).insertMany(batch, { ordered: false });
    all.push(...batch);
    batch = [];
  };
  for (const [g, groupId] of groupIds.entries()) {
    metaGroups[groupId] = { name: `Team ${g}`, description: '', roleId: member, seq: ++seq };
    batch.push(groupPersonDocument(positionKey(seq), { groupId, name: `Team ${g}`, roleId: member }));
  }
  await flush();
  for (let i = 0; i < members; i++) {
    const first = FIRST[i % FIRST.length];
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
    const inGroups = groups ? [groupIds[i % groups], ...(i % 3 === 0 ? [groupIds[(i * 7 + 1) % groups]] : [])] : [];
    batch.push(
      userPersonDocument(positionKey(++seq), {
        userId: `${organizationId.slice(0, 24)}${String(i + 100_000).padStart(12, '0')}`,
        username: `user${i}`,
        name: `${first} ${last}`,
        email: `user${i}@bench.example`,
        roleId: member,
        groupIds: [...new Set(inGroups)],
      }),
    );
    if (batch.length >= 1000) await flush();
  }
  await flush();
  // the creator, projected before the seeding: rebuild their search nodes together with the seeded people
  const projected = await peopleOf(db, organizationId)
    .find({ _id: { $lt: positionKey(SEED_BASE) } })
    .toArray();
  for (const p of projected)
    for (const prefix of prefixesOf(p.search).keys()) await searchNodes(db, organizationId).deleteOne({ _id: searchNodeId(organizationId, prefix) });
  const nodes = buildSearchNodes(organizationId, [...projected, ...all]);
  for (let i = 0; i < nodes.length; i += 100) await searchNodes(db, organizationId).insertMany(nodes.slice(i, i + 100), { ordered: false });
  if (ownerDoc)
    await orgMeta(db).updateOne({ _id: organizationId }, { $set: Object.fromEntries(Object.entries(metaGroups).map(([id, v]) => [`groups.${id}`, v])) });
  await orgVersions(db).updateOne({ _id: organizationId }, { $inc: { v: 1, n: all.length } }, { upsert: true });
}

/**
 * The same members in the organization's event stream: member-added events appended in commits of 1,000
 * (written as already published, so the relay does not send 100,000 events through JetStream), then a
 * snapshot built with the aggregate's own evolve, as the command runner would have written it.
 */
async function seedAggregate(client: MongoClient, dbName: string, organizationId: string, members: number) {
  const db = client.db(dbName);
  const store = createEventStore(db, { service: 'membership' });
  const loaded = await loadOrganization({ db, store }, organizationId);
  let { state, version } = loaded;
  const member = builtInRoleId(organizationId, 'member');
  const streamId = organizationStreamId(organizationId);
  const meta = eventMetadata(systemMeta('bench-seed'));
  for (let i = 0; i < members; i += 1000) {
    const events: DomainEvent[] = [];
    for (let j = i; j < Math.min(members, i + 1000); j++)
      events.push({
        id: randomUUID(),
        type: 'organization.member-added',
        version: 1,
        streamId,
        streamVersion: version + events.length + 1,
        service: 'membership',
        occurredAt: new Date().toISOString(),
        organizationId,
        data: {
          organizationId,
          userId: `${organizationId.slice(0, 24)}${String(j + 100_000).padStart(12, '0')}`,
          username: `user${j}`,
          roleId: member,
          via: 'invite',
        },
        metadata: meta,
      });
    await store.commits.insertOne({
      _id: `${streamId}@${version + 1}`,
      streamId,
      fromVersion: version + 1,
      toVersion: version + events.length,
      commandId: `bench-seed:${organizationId}:${i}`,
      events: events.map(catalogueEvent),
      published: true,
      committedAt: new Date(),
    });
    state = events.map(catalogueEvent).reduce(evolveOrganization, state);
    version += events.length;
  }
  await saveSnapshot(db, organizationId, state, version);
}

async function commandLatency(baseUrl: string, token: string, organizationId: string, n: number) {
  const times: number[] = [];
  let cold = 0;
  for (let i = 0; i <= n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${baseUrl}/api/v1/organizations/${organizationId}/groups`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: `Bench group ${i}` }),
    });
    const ms = performance.now() - t0;
    if (res.status !== 201)
      return { cold, p50: NaN, p99: NaN, failed: `request ${i} answered ${res.status} ${(await res.text()).slice(0, 200)} after ${ms.toFixed(0)} ms` };
    if (i === 0) cold = ms;
    else times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { cold, p50: percentile(times, 50), p99: percentile(times, 99), failed: '' };
}

async function measure(url: string, token: string, n: number): Promise<{ p50: number; p99: number; items: number }> {
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < n + 3; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { items?: unknown[] };
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
    items = body.items!.length;
    if (i >= 3) times.push(ms); // 3 warm-up requests
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), items };
}

async function main() {
  const requests = Number(process.argv[2] ?? 200);
  const members = Number(process.argv[3] ?? 100_000);
  const groups = Number(process.argv[4] ?? 1000);
  const infra = await provideTestInfrastructure();
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.NATS_URL = infra.natsUrl;
  process.env.TEST_SUBJECT_PREFIX = `bench${randomBytes(3).toString('hex')}.`; // the namespace test/support/system gives the services
  process.env.TEST_LOG_LEVEL = 'silent';
  const { startSystem, BOOTSTRAP_TOKEN } = await import('../../test/support/system');
  const { checkContractAndCleanUp, testDatabaseName } = await import('../../libs/testing/src/per-file');
  // a cold command on the big organization reads a 6 MB snapshot: more than the default 5 s on FerretDB
  const system = await startSystem({ SERVICE_REQUEST_TIMEOUT_MS: '120000' });
  const client = await new MongoClient(infra.mongoUrl).connect();
  try {
    const post = async (name: string) => {
      const res = await fetch(`${system.baseUrl}/api/v1/organizations`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${BOOTSTRAP_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      return ((await res.json()) as { id: string }).id;
    };
    const big = await post('Big Org');
    const small = await post('Small Org');
    const dbName = testDatabaseName('membership');
    // wait until the projection has the two organizations (the list waits for it anyway)
    await measure(`${system.baseUrl}/api/v1/organizations/${small}/people`, BOOTSTRAP_TOKEN, 1);
    const t0 = performance.now();
    await seed(client, dbName, big, members - 1, groups, true);
    await seed(client, dbName, small, 99, 0, false);
    process.stdout.write(`seeded ${members} + 100 members, ${groups} groups in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const commands = process.env.BENCH_COMMANDS === '1';
    if (commands) {
      const t1 = performance.now();
      await seedAggregate(client, dbName, big, members - 1);
      await seedAggregate(client, dbName, small, 99);
      process.stdout.write(`seeded the event streams and snapshots in ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
    }

    const scenarios = [
      ['first page (limit 50)', ''],
      ['common search "maria" (1 in 20)', '?search=maria'],
      ['rare search "user42@" (one user)', '?search=user42@'],
    ] as const;
    const rows: string[] = [];
    for (const [label, query] of scenarios) {
      const b = await measure(`${system.baseUrl}/api/v1/organizations/${big}/people${query}`, BOOTSTRAP_TOKEN, requests);
      const s = await measure(`${system.baseUrl}/api/v1/organizations/${small}/people${query}`, BOOTSTRAP_TOKEN, requests);
      rows.push(
        `${label.padEnd(34)} ${b.p50.toFixed(1).padStart(8)} ${b.p99.toFixed(1).padStart(8)} ${String(b.items).padStart(5)}   ${s.p50.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.items).padStart(5)}   ${(b.p50 / s.p50).toFixed(2).padStart(5)} ${(b.p99 / s.p99).toFixed(2).padStart(5)}`,
      );
    }
    process.stdout.write(`\nbench/people: ${requests} sequential requests per figure through the gateway; ${infra.description}\n\n`);
    process.stdout.write(
      `${'scenario'.padEnd(34)} ${'big p50'.padStart(8)} ${'big p99'.padStart(8)} items   ${'sml p50'.padStart(8)} ${'sml p99'.padStart(8)} items   ratio p50/p99 (big/small)\n`,
    );
    process.stdout.write(`${rows.join('\n')}\n(ms; big: ${members} members + ${groups} groups, small: 100 members)\n`);

    if (commands) {
      const cs = await commandLatency(system.baseUrl, BOOTSTRAP_TOKEN, small, 20);
      const cb = await commandLatency(system.baseUrl, BOOTSTRAP_TOKEN, big, 20);
      if (cs.failed || cb.failed) process.stdout.write(`\nPOST groups failed: small: ${cs.failed || 'ok'}; big: ${cb.failed || 'ok'}\n`);
      process.stdout.write(
        `\nPOST groups (a command on the aggregate; the first one loads the snapshot, the next 20 use the cached state):\n` +
          `  big:   first ${cb.cold.toFixed(0)} ms, then p50 ${cb.p50.toFixed(1)} ms, p99 ${cb.p99.toFixed(1)} ms\n` +
          `  small: first ${cs.cold.toFixed(0)} ms, then p50 ${cs.p50.toFixed(1)} ms, p99 ${cs.p99.toFixed(1)} ms\n` +
          `  ratio p50 ${(cb.p50 / cs.p50).toFixed(2)}, p99 ${(cb.p99 / cs.p99).toFixed(2)}\n`,
      );
    }
  } finally {
    await client.close();
    await system.close();
    await checkContractAndCleanUp().catch(() => undefined);
    await infra.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
