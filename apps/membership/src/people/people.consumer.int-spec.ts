import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import { builtInRoleId, type NewEvent } from '@app/contracts';
import { connectNats, ensureStreams } from '@app/messaging';
import { eventProducer, requireInfraEnv, testDatabaseName, testNaming } from '@app/testing';
import { startPeopleView, type RunningPeopleView } from './people.consumer';
import { getOrganization, listPeople, myOrganizations } from './people.queries';
import type { PeopleModel } from './people.view';

/** The people model fed by the real events stream (NATS JetStream), its snapshots in the real database (FerretDB). */
describe('people view: events stream, snapshots, and queries without database reads', () => {
  /** the view's client, whose commands are counted (the producers write through another) */
  let mongo: MongoClient;
  let producers: MongoClient;
  let db: Db;
  let nc: NatsConnection;
  let membership: ReturnType<typeof eventProducer>;
  let identity: ReturnType<typeof eventProducer>;
  const commands: string[] = [];
  const views: RunningPeopleView[] = [];
  const logger = { warn: () => undefined, error: () => undefined };
  const org = randomUUID();
  const member = builtInRoleId(org, 'member');
  const stream = `organization-${org}`;
  let added = 0;

  const start = async (database: Db, options = {}) => {
    const view = await startPeopleView(
      { db: database, js: nc.jetstream(), jsm: await nc.jetstreamManager(), naming: testNaming(), logger },
      { snapshotCheckMs: 100_000, ...options },
    );
    views.push(view);
    return view;
  };
  /** `n` more members (user.created, then member-added), in commits of 100 */
  const addMembers = async (n: number) => {
    for (let i = 0; i < n; i += 100) {
      const batch = Array.from({ length: Math.min(100, n - i) }, () => ({ userId: randomUUID(), i: added++ }));
      for (const u of batch)
        await identity.append(`user-${u.userId}`, [
          {
            type: 'user.created',
            version: 1,
            data: {
              userId: u.userId,
              username: `user${u.i}`,
              email: `user${u.i}@example.com`,
              name: `${u.i % 20 === 0 ? 'Maria' : 'John'} Doe${u.i}`,
              createdBy: 'organization',
              managedByOrganizationId: org,
              temporaryPassword: true,
            },
          },
        ]);
      await membership.append(
        stream,
        batch.map(
          (u): NewEvent => ({
            type: 'organization.member-added',
            version: 1,
            organizationId: org,
            data: { organizationId: org, userId: u.userId, username: `user${u.i}`, roleId: member, via: 'account' },
          }),
        ),
      );
    }
  };
  const answers = (m: PeopleModel) => ({
    first: listPeople(m, { organizationId: org }),
    second: listPeople(m, { organizationId: org, cursor: listPeople(m, { organizationId: org }).nextCursor! }),
    maria: listPeople(m, { organizationId: org, search: 'maria' }),
    rare: listPeople(m, { organizationId: org, search: 'user42@' }),
    org: getOrganization(m, org),
    mine: myOrganizations(m, listPeople(m, { organizationId: org, search: 'user7@' }).items[0].id),
  });

  beforeAll(async () => {
    const { mongoUrl, natsUrl } = requireInfraEnv();
    mongo = await new MongoClient(mongoUrl, { monitorCommands: true }).connect();
    mongo.on('commandStarted', (e) => commands.push(e.commandName));
    db = mongo.db(testDatabaseName('people-view'));
    producers = await new MongoClient(mongoUrl).connect();
    nc = await connectNats(natsUrl, 'people-view-test');
    await ensureStreams(nc, testNaming());
    const events = producers.db(testDatabaseName('people-view-events'));
    membership = eventProducer(events, 'membership', nc);
    identity = eventProducer(events, 'identity', nc);
    await membership.store.ensureIndexes();
    await membership.append(stream, [
      {
        type: 'organization.created',
        version: 1,
        organizationId: org,
        data: { organizationId: org, name: 'Org', slug: `org-${org.slice(0, 8)}`, ownerId: randomUUID() },
      },
    ]);
    await addMembers(300);
  }, 120_000);
  afterAll(async () => {
    for (const v of views) await v.stop();
    await membership.stop();
    await identity.stop();
    await nc.drain();
    await mongo.close();
    await producers.close();
  });

  it('answers lists and searches from memory once caught up: no database command for a page, a cursor page or a search', async () => {
    const view = await start(db);
    await view.current();
    commands.length = 0;
    const m = await view.current();
    const a = answers(m);
    expect(commands).toEqual([]);
    expect(a.first.items).toHaveLength(50);
    expect(a.second.items[0].username).toBe('user50'); // nobody joined before user0 (the organization has no creator here)
    expect(a.maria.items.map((p) => p.name)).toEqual(Array.from({ length: 15 }, (_, k) => `Maria Doe${k * 20}`));
    expect(a.rare.items.map((p) => p.username)).toEqual(['user42']);
    expect(a.mine.items).toEqual([{ id: org, name: 'Org', slug: `org-${org.slice(0, 8)}` }]);
  });

  it('read-your-writes: a query after an append sees it (the view waits for the stream’s last sequence)', async () => {
    const view = views[0];
    await addMembers(1);
    expect((await view.current()).orgs.get(org)!.order.at(-1)!.id).toBe(
      listPeople(await view.current(), { organizationId: org, search: `user${added - 1}@` }).items[0].id,
    );
  });

  it('starts from the newest snapshot and reads only the stream after it; ends where a full replay ends', async () => {
    const first = views[0];
    await first.snapshot();
    const at = first.position();
    await addMembers(150);
    const restored = await start(db);
    expect(restored.startedFrom).toBe(at);
    const replayed = await start(mongo.db(testDatabaseName('people-view-empty'))); // no snapshot there
    expect(replayed.startedFrom).toBe(0);
    const want = answers(await replayed.current());
    expect(want.first.items).toHaveLength(50);
    expect(answers(await restored.current())).toEqual(want);
    expect(answers(await first.current())).toEqual(want);
  });

  it('writes a snapshot by itself once enough events were applied, and replaces the older one', async () => {
    const view = await start(db, { snapshotEveryEvents: 50, snapshotCheckMs: 50 });
    const before = view.startedFrom;
    await addMembers(100);
    await view.current();
    const head = await eventually(async () => {
      const h = await db.collection<{ _id: string; sequence: number; chunks: number }>('people_view_snapshot').find().sort({ sequence: -1 }).limit(1).next();
      return h && h.sequence === view.position() ? h : undefined;
    });
    expect(head.sequence).toBeGreaterThan(before);
    await view.snapshot(); // joins the write in flight (it removes the older one after its head), or writes nothing (not newer)
    expect(await db.collection('people_view_snapshot').countDocuments()).toBe(1);
    const chunks = await db.collection('people_view_chunks').find({}).project({ _id: 1 }).toArray();
    expect(chunks.map((c) => c._id)).toEqual([`${head._id}:0`]);
  });
});

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
