import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import type { NatsConnection } from 'nats';
import { eventsStreamName, type NewEvent } from '@app/contracts';
import { ensureStreams } from '@app/messaging';
import { eventProducer, testDatabaseName, testMongo, testNaming, testNats } from '@app/testing';
import { startCustomRolesView } from './custom-roles';
import { customRolesSnapshotStore } from './custom-roles-snapshot';

/**
 * Start-up from a snapshot plus the tail of the stream gives the same view as a replay from sequence 1
 * (docs/membership.md "Custom roles view: snapshots"), on real FerretDB and NATS.
 */
describe("membership's custom-roles view: snapshot plus tail equals a full replay", () => {
  let mongo: MongoClient;
  let db: Db;
  let nc: NatsConnection;
  let producer: ReturnType<typeof eventProducer>;
  const orgs = [randomUUID(), randomUUID()];
  const live = new Map<string, { org: string; name: string; permissions: string[] }>();
  let n = 0;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('membership-custom-roles'));
    nc = await testNats();
    await ensureStreams(nc, testNaming());
    producer = eventProducer(db, 'authorization', nc);
  });
  afterAll(async () => {
    await producer?.stop();
    await nc?.close();
    await mongo?.close();
  });

  /** `count` random role events (created, changed, deleted) in the two organizations, and some noise */
  async function history(count: number) {
    for (let i = 0; i < count; i++) {
      const org = orgs[i % 2];
      const mine = [...live].filter(([, r]) => r.org === org);
      const pick = mine[(i * 7) % Math.max(1, mine.length)];
      const scope = 'organization';
      let e: NewEvent;
      if (!pick || i % 3 === 0) {
        const roleId = randomUUID();
        const r = { org, name: `Role ${++n}`, permissions: n % 2 ? ['organization.view'] : [] };
        live.set(roleId, r);
        e = {
          type: 'role.created',
          version: 1,
          organizationId: org,
          data: { organizationId: org, roleId, name: r.name, description: '', scope, permissions: r.permissions },
        };
      } else if (i % 3 === 1) {
        const [roleId, r] = pick;
        const previousName = r.name;
        r.name = `Role ${++n}`;
        r.permissions = ['organization.audit_logs.view'];
        e = {
          type: 'role.changed',
          version: 1,
          organizationId: org,
          data: { organizationId: org, roleId, name: r.name, description: 'x', scope, permissions: r.permissions, previousName },
        };
      } else {
        const [roleId, r] = pick;
        live.delete(roleId);
        e = { type: 'role.deleted', version: 1, organizationId: org, data: { organizationId: org, roleId, name: r.name, scope } };
      }
      await producer.append(`access-${org}`, [e]);
    }
  }

  const expected = (org: string) =>
    [...live]
      .filter(([, r]) => r.org === org)
      .map(([id, r]) => ({ id, name: r.name, permissions: r.permissions }))
      .sort((a, b) => a.id.localeCompare(b.id));
  const seen = async (
    view: { current(org: string, waitMs?: number): Promise<Array<{ id: string; name: string; permissions: string[] }> | undefined> },
    org: string,
  ) => ((await view.current(org, 10_000)) ?? []).map((r) => ({ id: r.id, name: r.name, permissions: r.permissions })).sort((a, b) => a.id.localeCompare(b.id));

  it('a view started from the newest snapshot reads only the tail, and holds what a replayed view holds', async () => {
    const store = customRolesSnapshotStore(db);
    await history(60);
    const writer = await startCustomRolesView({
      js: nc.jetstream(),
      naming: testNaming(),
      jsm: await nc.jetstreamManager(),
      snapshots: { store, everyEvents: 1, everyMs: 0, checkEveryMs: 50 },
    });
    expect(writer.startedFrom).toBe(0);
    const last = (await (await nc.jetstreamManager()).streams.info(eventsStreamName(testNaming()))).state.last_seq;
    const stream = await (await nc.jetstreamManager()).streams.info(eventsStreamName(testNaming()));
    const identity = { name: stream.config.name, created: stream.created };
    const deadline = Date.now() + 10_000;
    while ((await store.newest(identity))?.sequence !== last && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await writer.stop();
    expect((await store.newest(identity))?.sequence).toBe(last);

    await history(30); // the tail, after the snapshot
    const jsm = await nc.jetstreamManager();
    const fromSnapshot = await startCustomRolesView({ js: nc.jetstream(), naming: testNaming(), jsm, snapshots: { store, everyEvents: 1e9 } });
    const replayed = await startCustomRolesView({ js: nc.jetstream(), naming: testNaming(), jsm });
    try {
      expect(fromSnapshot.startedFrom).toBe(last);
      expect(replayed.startedFrom).toBe(0);
      for (const org of orgs) {
        expect(await seen(fromSnapshot, org)).toEqual(expected(org));
        expect(await seen(replayed, org)).toEqual(expected(org));
      }
      expect(expected(orgs[0]).length + expected(orgs[1]).length).toBeGreaterThan(0);
    } finally {
      await fromSnapshot.stop();
      await replayed.stop();
    }
  });

  it('a damaged snapshot is skipped (an older one, or a replay, instead); a stream trimmed past the snapshot is refused', async () => {
    const store = customRolesSnapshotStore(db);
    const jsm = await nc.jetstreamManager();
    const chunks = db.collection('custom_roles_snapshot_chunks');
    const heads = await db.collection('custom_roles_snapshots').find().sort({ sequence: -1 }).toArray();
    await chunks.deleteMany({ snapshot: heads[0]._id });
    const started = await startCustomRolesView({ js: nc.jetstream(), naming: testNaming(), jsm, snapshots: { store, everyEvents: 1e9 } });
    try {
      expect(started.startedFrom).toBeLessThan(heads[0].sequence);
      for (const org of orgs) expect(await seen(started, org)).toEqual(expected(org));
    } finally {
      await started.stop();
    }

    const last = (await jsm.streams.info(eventsStreamName(testNaming()))).state.last_seq;
    await jsm.streams.purge(eventsStreamName(testNaming()), { seq: last }); // keeps only the last message
    await expect(startCustomRolesView({ js: nc.jetstream(), naming: testNaming(), jsm, snapshots: { store, everyEvents: 1e9 } })).rejects.toThrow(
      /events in between are gone/,
    );
  });
});
