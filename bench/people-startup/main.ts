/**
 * bench/people-startup: start-up of membership's people view (from `startPeopleView` until it has applied the
 * whole events stream) with 100,000 and 1,000,000 events in the stream, replaying everything vs starting from a
 * snapshot `tail` events behind the end (docs/membership.md "People view: start-up").
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/people-startup/main.ts [sizes=100000,1000000] [tail=5000]
 *
 * The stream: one organization of 1,000 members (identity's `user.created`, then `organization.member-added`) and
 * 10 groups of 100, then the same members over and over: three of four events a role change
 * (`role.assigned`, Admin ↔ Member), one of four a profile change (screen name or email). So the state stays the
 * same size while the history grows, and every event is one the view folds (none is skipped undecoded).
 * The snapshot is the model the bench folds itself from what it published (at the acked sequences), written with
 * the view's own store; the view's model at the end is compared with the bench's.
 * Then the parts of a start from the snapshot, one after the other: reading and restoring it, reading the tail
 * (and the same number of events again, and from the stream's first sequence: median of 3 each), checking and folding it.
 * FerretDB and nats-server started on free ports (or MONGO_URL / NATS_URL).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { JSONCodec, type JetStreamClient } from 'nats';
import { MongoClient } from 'mongodb';
import type { DomainEvent, ServiceName } from '@app/contracts';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? dflt;
const SIZES = arg('sizes', '100000,1000000').split(',').map(Number);
const TAIL = Number(arg('tail', '5000'));
const MEMBERS = 1000;
const GROUPS = 10;
const PREFIX = `bench${randomBytes(3).toString('hex')}.`;

async function main() {
  const { allEventsSubject, builtInRoleId, catalogueEvent, eventMetadata, eventsStreamName, evtSubject, subjectNaming, systemMeta } = await import(
    '@app/contracts'
  );
  const naming = subjectNaming(PREFIX);
  const { provideTestInfrastructure } = await import('../../libs/testing/src/infra');
  const { connectNats, ensureStreams } = await import('@app/messaging');
  const { startPeopleView } = await import('../../apps/membership/src/people/people.consumer');
  const { peopleSnapshotStore } = await import('../../apps/membership/src/people/people.snapshot');
  const { applyPeopleEvent, emptyModel, modelFromSnapshot, snapshotOf } = await import('../../apps/membership/src/people/people.view');
  type Model = ReturnType<typeof emptyModel>;

  const infra = await provideTestInfrastructure();
  const mongo = await MongoClient.connect(infra.mongoUrl);
  const suffix = randomBytes(3).toString('hex');
  const snapshotDb = mongo.db(`bench_people_startup_${suffix}`);
  const emptyDb = mongo.db(`bench_people_startup_empty_${suffix}`); // no snapshot: the full replay
  const nc = await connectNats(infra.natsUrl, 'bench');
  await ensureStreams(nc, naming);
  const js: JetStreamClient = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const codec = JSONCodec();
  const logger = {
    warn: (o: object, m: string) => process.stderr.write(`warn ${m} ${JSON.stringify(o)}\n`),
    error: (o: object, m: string) => process.stderr.write(`error ${m} ${JSON.stringify(o)}\n`),
  };

  const org = randomUUID();
  const users = Array.from({ length: MEMBERS }, () => randomUUID());
  const groups = Array.from({ length: GROUPS }, () => randomUUID());
  const roles = { member: builtInRoleId(org, 'member'), admin: builtInRoleId(org, 'admin') };
  const metadata = eventMetadata(systemMeta('bench-people-startup'));
  const model: Model = emptyModel();
  let orgVersion = 0;
  const userVersions = new Map<string, number>();
  const event = (service: 'membership' | 'identity', type: string, data: Record<string, unknown>): DomainEvent => {
    const scoped = service === 'membership';
    const streamId = scoped ? `organization-${org}` : `user-${String(data.userId)}`;
    const version = scoped ? ++orgVersion : (userVersions.get(streamId) ?? 0) + 1;
    if (!scoped) userVersions.set(streamId, version);
    return {
      id: randomUUID(),
      type,
      version: 1,
      streamId,
      streamVersion: version,
      service,
      occurredAt: new Date().toISOString(),
      ...(scoped ? { organizationId: org } : {}),
      data,
      metadata,
    };
  };
  const name = (i: number, v: number) => `Person ${i} v${v}`;

  /** the i-th event of the history (1-based) */
  const eventAt = (i: number): DomainEvent => {
    if (i === 1) return event('membership', 'organization.created', { organizationId: org, name: 'Bench', slug: 'bench', ownerId: users[0] });
    const setup = 1 + 2 * MEMBERS;
    if (i <= setup) {
      const u = Math.floor((i - 2) / 2);
      const userId = users[u];
      if (i % 2 === 0)
        return event('identity', 'user.created', {
          userId,
          username: `user${u}`,
          email: `user${u}@bench.example`,
          name: name(u, 0),
          createdBy: 'organization',
          managedByOrganizationId: org,
          temporaryPassword: true,
        });
      return event('membership', 'organization.member-added', {
        organizationId: org,
        userId,
        username: `user${u}`,
        roleId: u === 0 ? builtInRoleId(org, 'owner') : roles.member,
        via: u === 0 ? 'creator' : 'account',
      });
    }
    if (i <= setup + GROUPS) {
      const g = i - setup - 1;
      const memberIds = users.slice(g * (MEMBERS / GROUPS), (g + 1) * (MEMBERS / GROUPS));
      return event('membership', 'group.created', {
        organizationId: org,
        groupId: groups[g],
        name: `Team ${g}`,
        description: '',
        memberIds,
        roleId: roles.member,
      });
    }
    const k = i - setup - GROUPS;
    const u = 1 + (k % (MEMBERS - 1)); // never the owner
    const round = Math.floor(k / (MEMBERS - 1));
    if (k % 4 === 0)
      return k % 8 === 0
        ? event('identity', 'user.screen-name-changed', { userId: users[u], name: name(u, round + 1), previousName: name(u, round) })
        : event('identity', 'user.email-changed', {
            userId: users[u],
            email: `user${u}.${round + 1}@bench.example`,
            previousEmail: `user${u}.${round}@bench.example`,
          });
    const admin = round % 2 === 0;
    return event('membership', 'role.assigned', {
      organizationId: org,
      subjectType: 'user',
      subjectId: users[u],
      projectId: null,
      roleId: admin ? roles.admin : roles.member,
      roleName: admin ? 'Admin' : 'Member',
      previousRoleId: admin ? roles.member : roles.admin,
    });
  };

  let published = 0;
  let publishMs = 0;
  async function publishUpTo(n: number) {
    const began = Date.now();
    while (published < n) {
      const batch = Array.from({ length: Math.min(2000, n - published) }, (_, k) => eventAt(published + k + 1));
      const acks = await Promise.all(
        batch.map((e) => js.publish(naming.subject(evtSubject(e.service as ServiceName, e.type, 1)), codec.encode(e), { msgID: e.id, timeout: 60_000 })),
      );
      // the bench's own model, folded at the sequences JetStream gave (the view's catalogue check is not repeated here)
      batch.forEach((e, k) => applyPeopleEvent(model, e as never, acks[k].seq));
      published += batch.length;
    }
    publishMs += Date.now() - began;
  }

  const expected = () => JSON.stringify(snapshotOf(model));
  const timeStart = async (db: typeof snapshotDb) => {
    const began = Date.now();
    const view = await startPeopleView({ db, js, jsm, naming, logger }, { snapshotEveryEvents: 1e12 });
    const m = await view.current(1_800_000);
    const ms = Date.now() - began;
    const same = JSON.stringify(snapshotOf(m)) === expected();
    await view.stop();
    return { ms, from: view.startedFrom, same };
  };

  const rows: string[] = [];
  const parts: string[] = [];
  for (const size of SIZES) {
    await publishUpTo(size - TAIL);
    const stream = await jsm.streams.info(eventsStreamName(naming));
    const written = Date.now();
    const head = await peopleSnapshotStore(snapshotDb).write(snapshotOf(model), { name: stream.config.name, created: stream.created });
    const writeMs = Date.now() - written;
    await publishUpTo(size);
    const fromSnapshot = [await timeStart(snapshotDb), await timeStart(snapshotDb), await timeStart(snapshotDb)].sort((a, b) => a.ms - b.ms)[1];
    const replay = await timeStart(emptyDb);
    // the parts of a start from the snapshot, one after the other in this process: reading and restoring the
    // snapshot; reading the tail with an ordered consumer (the view's filter); checking and folding it
    const identity = { name: stream.config.name, created: stream.created };
    const t1 = Date.now();
    const loaded = await peopleSnapshotStore(snapshotDb).load(identity, size, logger);
    const restored = modelFromSnapshot(loaded!.snapshot);
    const loadMs = Date.now() - t1;
    const tail: Array<{ seq: number; data: Uint8Array }> = [];
    const read = async (from: number, keep: boolean) => {
      const began = Date.now();
      const reader = await (
        await js.consumers.get(eventsStreamName(naming), { filterSubjects: naming.subject(allEventsSubject()), opt_start_seq: from })
      ).consume({ max_messages: 1000 });
      for await (const m of reader) {
        if (keep) tail.push({ seq: m.seq, data: m.data });
        if (m.seq >= from + TAIL - 1) break;
      }
      return Date.now() - began;
    };
    const tailMs = await read(loaded!.snapshot.sequence + 1, true);
    // the same number of events read from the stream's start: does NATS read the end of a long stream more slowly?
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1];
    const ends: number[] = [];
    const starts: number[] = [];
    for (let r = 0; r < 3; r++) {
      starts.push(await read(1, false));
      ends.push(await read(size - TAIL + 1, false));
    }
    const t3 = Date.now();
    for (const m of tail) applyPeopleEvent(restored, catalogueEvent(codec.decode(m.data) as DomainEvent), m.seq);
    const foldMs = Date.now() - t3;
    parts.push(
      `${size.toLocaleString('en').padStart(16)} | ${`${loadMs} ms`.padStart(20)} | ${`${tailMs} ms`.padStart(15)} | ${`${median(ends)} / ${median(starts)} ms`.padStart(29)} | ${`${foldMs} ms`.padStart(14)} | ${tail.length}`,
    );
    rows.push(
      `${size.toLocaleString('en').padStart(16)} | ${`${replay.ms} ms`.padStart(11)} | ${`${fromSnapshot.ms} ms (from ${fromSnapshot.from})`.padStart(30)} | ${(replay.ms / fromSnapshot.ms).toFixed(1).padStart(5)} | ${replay.same && fromSnapshot.same ? 'yes' : 'NO'}`,
    );
    process.stdout.write(
      `${rows[rows.length - 1]}   (published up to ${size} in ${(publishMs / 1000).toFixed(1)} s so far; snapshot at ${head?.sequence} written in ${writeMs} ms)\n`,
    );
  }
  process.stdout.write(`\n  events in stream | full replay | from snapshot + ${TAIL} (median of 3) | ratio | same model\n${rows.join('\n')}\n`);
  process.stdout.write(
    `\n  events in stream | snapshot load+restore | tail read (NATS) | the same, again / from seq 1 | tail check+fold | tail events\n${parts.join('\n')}\n`,
  );
  await jsm.streams.delete(eventsStreamName(naming)).catch(() => false);
  await snapshotDb.dropDatabase();
  await emptyDb.dropDatabase();
  await nc.close();
  await mongo.close();
  await infra.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
