/**
 * bench/people: listing people of an organization of 100,000 members and 1,000 groups next to one of 100
 * members, in the same run, through the gateway (GET /api/v1/organizations/{org}/people).
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/people/main.ts [requests=200] [members=100000] [groups=1000]
 *
 * First, in this process and without any service: the memory of membership's people model for that many
 * members (with identity's profiles: name and email) and groups, its snapshot's size, and how long a snapshot
 * takes to write, to restore and the same events to replay.
 *
 * Then the whole system: both organizations are created through the API, and their people are published to
 * the events stream as membership would publish them (`organization.member-added`, then `group.created` with
 * each group's members), so membership's people view consumes them exactly as it consumes any event, and the
 * list answers from what the service really holds. The audit log is stopped first (it would write 101,000
 * entries into FerretDB meanwhile and the measurement would be of that); identity's events are not published
 * (identity's catch-up would read each user's stream), so a member's profile is their username, which carries
 * the name: `maria.silva.000042`. The organizations' aggregates hold only their creators (see BENCH_COMMANDS).
 *
 * With BENCH_COMMANDS=1 the same members are also appended to the organizations' event streams in commits
 * of 1,000 events with a snapshot at the end (seedAggregate), and POST groups is timed in both. Meant for
 * MongoDB: on FerretDB v1 the 50 MB of commits make the event store's unindexed queries (the relay's sweep
 * of unpublished commits, queries by stream) decode the whole table, and every command of the service
 * takes seconds (see docs/membership.md).
 *
 * Each user is in one or two groups; names come from small lists so that a name prefix matches 1 in 20.
 * Printed: p50/p99 of the first page (limit 50), of a common search (a first name: many matches) and of a
 * rare search (one user), for both organizations, and the ratios big/small, each twice: built for every request
 * (an event the people model uses is published before each, untimed, so membership builds the page as for a
 * search typed for the first time) and kept (the same request again, answered from the page membership keeps
 * serialized); then membership's start-up time with the snapshot the view wrote.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MongoClient } from 'mongodb';
import { builtInRoleId, catalogueEvent, eventMetadata, systemMeta, type DomainEvent } from '@app/contracts';
import { createEventStore } from '@app/event-store';
import { loadOrganization, saveSnapshot } from '../../apps/membership/src/organization/organization.repository';
import { evolveOrganization, organizationStreamId } from '../../apps/membership/src/organization/organization.state';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';
import { applyPeopleEvent, emptyModel, modelFromSnapshot, snapshotOf } from '../../apps/membership/src/people/people.view';
import { decodePeopleSnapshot, encodePeopleSnapshot } from '../../apps/membership/src/people/people.snapshot';
import { percentile } from '../lib/http-load';
import { publish, seedEvents, userIdOf, usernameOf, waitForList, waitForPeopleSnapshot } from '../lib/people-seed';

/** Heap of the people model of one such organization (identity's profiles included), and its snapshot's costs. */
async function modelCosts(members: number, groups: number): Promise<string> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const organizationId = randomUUID();
  const events: DomainEvent[] = [];
  gc();
  const base = process.memoryUsage().heapUsed;
  const model = emptyModel();
  let seq = 0;
  const created = { ...envelopeOf(organizationId), type: 'organization.created', data: { organizationId, name: 'Big', slug: 'big', ownerId: randomUUID() } };
  applyPeopleEvent(model, catalogueEvent(created), ++seq);
  for (const e of seedEvents(organizationId, members, groups, true)) events.push(e);
  const t0 = performance.now();
  for (const e of events) applyPeopleEvent(model, catalogueEvent(e), ++seq);
  const replayMs = performance.now() - t0;
  events.length = 0;
  gc();
  const heapMb = (process.memoryUsage().heapUsed - base) / 1e6;
  const t1 = performance.now();
  const bytes = await encodePeopleSnapshot(snapshotOf(model));
  const encodeMs = performance.now() - t1;
  const t2 = performance.now();
  const restored = modelFromSnapshot(await decodePeopleSnapshot(bytes));
  const restoreMs = performance.now() - t2;
  if (restored.orgs.get(organizationId)!.order.length !== members + groups) throw new Error('snapshot lost people');
  return (
    `people model of ${members} members (profiles with name and email) + ${groups} groups, in memory: heap ${heapMb.toFixed(0)} MB; ` +
    `folding its ${seq} events ${(replayMs / 1000).toFixed(1)} s (${((seq / replayMs) * 1000).toFixed(0)} events/s, validation included); ` +
    `snapshot ${(bytes.length / 1e6).toFixed(1)} MB gzip'ed, written in ${encodeMs.toFixed(0)} ms, restored in ${restoreMs.toFixed(0)} ms\n`
  );
}

const envelopeOf = (organizationId: string): Omit<DomainEvent, 'type' | 'data'> => ({
  id: randomUUID(),
  version: 1,
  streamId: organizationStreamId(organizationId),
  streamVersion: 1,
  service: 'membership',
  occurredAt: new Date().toISOString(),
  organizationId,
  metadata: eventMetadata(systemMeta('bench-seed')),
});

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
          userId: userIdOf(organizationId, j),
          username: usernameOf(j),
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

/**
 * p50/p99 of `n` sequential requests of `url` (after 3 warm-ups). `beforeEach`: what runs before each request,
 * untimed (a change of the people model, so that membership builds the page instead of answering a kept one).
 */
async function measure(url: string, token: string, n: number, beforeEach?: () => Promise<void>): Promise<{ p50: number; p99: number; items: number }> {
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < n + 3; i++) {
    await beforeEach?.();
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

/**
 * An event membership's people model uses (a project of `organizationId`, which no people list shows): every
 * page it kept serialized is dropped. Published, then 20 ms for the view to apply it before the timed request.
 */
function changesThePeopleModel(natsUrl: string, organizationId: string): () => Promise<void> {
  const meta = eventMetadata(systemMeta('bench-people'));
  let version = 1_000_000;
  return async () => {
    const event: DomainEvent = {
      id: randomUUID(),
      type: 'project.created',
      version: 1,
      streamId: organizationStreamId(organizationId),
      streamVersion: ++version,
      service: 'membership',
      occurredAt: new Date().toISOString(),
      organizationId,
      data: { organizationId, projectId: randomUUID(), name: `churn ${version}`, ownerId: randomUUID() },
      metadata: meta,
    };
    await publish(natsUrl, [event]);
    await new Promise((r) => setTimeout(r, 20));
  };
}

async function main() {
  const requests = Number(process.argv[2] ?? 200);
  const members = Number(process.argv[3] ?? 100_000);
  const groups = Number(process.argv[4] ?? 1000);
  process.stdout.write(await modelCosts(members, groups));
  const infra = await provideTestInfrastructure();
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.NATS_URL = infra.natsUrl;
  process.env.TEST_SUBJECT_PREFIX = `bench${randomUUID().slice(0, 6)}.`; // the namespace test/support/system gives the services
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
    const people = (org: string, query = '') => `${system.baseUrl}/api/v1/organizations/${org}/people${query}`;
    await measure(people(small), BOOTSTRAP_TOKEN, 1);
    await system.stopService('audit-log');
    const t0 = performance.now();
    const published = await publish(
      infra.natsUrl,
      (function* () {
        yield* seedEvents(big, members - 1, groups, false);
        yield* seedEvents(small, 99, 0, false);
      })(),
    );
    const publishedS = (performance.now() - t0) / 1000;
    const rare = usernameOf(42);
    await waitForList(people(small, `?search=${usernameOf(98)}`), BOOTSTRAP_TOKEN, (n) => n === 1);
    await waitForList(people(big, `?search=${rare}`), BOOTSTRAP_TOKEN, (n) => n === 1);
    process.stdout.write(
      `published ${published} events (${members} + 100 members, ${groups} groups) in ${publishedS.toFixed(1)} s; the list showed them ${((performance.now() - t0) / 1000).toFixed(1)} s after the first\n`,
    );

    // the view writes a snapshot 10,000 events past the last one, once idle: measured after the last one (steady state)
    const snapshotAt = await waitForPeopleSnapshot(client.db(dbName), published);

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
      [`rare search "${rare}" (one user)`, `?search=${rare}`],
    ] as const;
    const rows: string[] = [];
    // built for each request (the model changed just before), as a search typed for the first time is; and the
    // same request again, answered from the page membership kept serialized (docs/membership.md)
    const change = changesThePeopleModel(infra.natsUrl, small);
    for (const [kept, [scenario, query]] of [false, true].flatMap((k) => scenarios.map((sc) => [k, sc] as const))) {
      const label = `${scenario}${kept ? ', kept' : ''}`;
      const b = await measure(people(big, query), BOOTSTRAP_TOKEN, requests, kept ? undefined : change);
      const s = await measure(people(small, query), BOOTSTRAP_TOKEN, requests, kept ? undefined : change);
      rows.push(
        `${label.padEnd(38)} ${b.p50.toFixed(1).padStart(8)} ${b.p99.toFixed(1).padStart(8)} ${String(b.items).padStart(5)}   ${s.p50.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.items).padStart(5)}   ${(b.p50 / s.p50).toFixed(2).padStart(5)} ${(b.p99 / s.p99).toFixed(2).padStart(5)}`,
      );
    }
    process.stdout.write(`\nbench/people: ${requests} sequential requests per figure through the gateway; ${infra.description}\n\n`);
    process.stdout.write(
      `${'scenario'.padEnd(38)} ${'big p50'.padStart(8)} ${'big p99'.padStart(8)} items   ${'sml p50'.padStart(8)} ${'sml p99'.padStart(8)} items   ratio p50/p99 (big/small)\n`,
    );
    process.stdout.write(`${rows.join('\n')}\n(ms; big: ${members} members + ${groups} groups, small: 100 members)\n`);

    await system.stopService('membership');
    const t2 = performance.now();
    await system.startService('membership');
    const started = performance.now() - t2;
    await waitForList(people(big, `?search=${rare}`), BOOTSTRAP_TOKEN, (n) => n === 1);
    process.stdout.write(
      `\nmembership restarted (snapshot at sequence ${snapshotAt}): started in ${(started / 1000).toFixed(1)} s, the big list answered ${((performance.now() - t2) / 1000).toFixed(1)} s after the start began\n`,
    );

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
