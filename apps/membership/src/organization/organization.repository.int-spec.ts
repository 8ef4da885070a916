import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { systemMeta, type CommandMeta } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { testDatabaseName, testMongo } from '@app/testing';
import { loadOrganization, OrganizationCache, runOrganizationCommand, SNAPSHOT_EVERY, snapshots } from './organization.repository';
import { evolveOrganization, initialOrganizationState, organizationStreamId } from './organization.state';

describe('organization repository: snapshots and concurrent commands (real database)', () => {
  let mongo: MongoClient;
  let db: Db;
  let store: EventStore;
  const meta = (): CommandMeta => systemMeta(randomUUID());

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('membership-repo'));
    store = createEventStore(db, { service: 'membership' });
    await store.ensureIndexes();
  });
  afterAll(() => mongo?.close());

  async function newOrganization(): Promise<{ organizationId: string; ownerId: string }> {
    const organizationId = randomUUID();
    const ownerId = randomUUID();
    await runOrganizationCommand({ db, store }, { kind: 'CreateOrganization', organizationId, name: 'Org', slug: 'org', ownerId, ownerUsername: 'owner', via: 'creator' }, meta());
    return { organizationId, ownerId };
  }
  const addMembers = (deps: { db: Db; store: EventStore }, organizationId: string, n: number) =>
    runOrganizationCommand(
      deps,
      { kind: 'AddMembers', organizationId, users: Array.from({ length: n }, (_, i) => ({ userId: randomUUID(), username: `u${i}` })), via: 'invite' },
      meta(),
    );

  it('writes a snapshot every SNAPSHOT_EVERY events and loads from it plus the newer commits only, to the same state as a full replay', async () => {
    const { organizationId } = await newOrganization();
    await addMembers({ db, store }, organizationId, SNAPSHOT_EVERY + 5);
    const snap = await snapshots(db).findOne({ _id: organizationStreamId(organizationId) });
    expect(snap?.version).toBe(SNAPSHOT_EVERY + 7);

    const added = await runOrganizationCommand({ db, store }, { kind: 'AddMembers', organizationId, users: [{ userId: randomUUID(), username: 'late' }], via: 'invite' }, meta());
    const looked: unknown[] = [];
    const commits = new Proxy(store.commits, {
      get: (target, prop) => (prop === 'findOne' ? (filter: { _id: string }) => (looked.push(filter._id), target.findOne(filter)) : Reflect.get(target, prop)),
    });
    const loaded = await loadOrganization({ db, store: { ...store, commits } }, organizationId);
    const streamId = organizationStreamId(organizationId);
    expect(looked).toEqual([`${streamId}@${SNAPSHOT_EVERY + 8}`, `${streamId}@${SNAPSHOT_EVERY + 9}`]);
    expect(loaded.version).toBe(added.version);

    const replayed = (await store.readStream(organizationStreamId(organizationId))).reduce(evolveOrganization, initialOrganizationState);
    expect(loaded.state).toEqual(replayed);
    expect(Object.keys(loaded.state.members)).toHaveLength(SNAPSHOT_EVERY + 7);
  });

  it('a replica’s cached state picks up what another replica appended (only the newer commits are read)', async () => {
    const { organizationId, ownerId } = await newOrganization();
    const replicaA = { db, store, cache: new OrganizationCache() };
    const replicaB = { db, store, cache: new OrganizationCache() };
    const { state } = await addMembers(replicaA, organizationId, 2);
    const [ann, bob] = Object.keys(state.members).filter((id) => id !== ownerId);
    await runOrganizationCommand(replicaB, { kind: 'RemoveMember', organizationId, userId: ann, ownerIds: [ownerId] }, meta());
    await expect(
      runOrganizationCommand(replicaA, { kind: 'CreateGroup', organizationId, groupId: randomUUID(), name: 'G', description: '', memberIds: [ann, bob] }, meta()),
    ).rejects.toMatchObject({ code: 'NOT_A_MEMBER', details: { userIds: [ann] } });
    const cachedA = await loadOrganization(replicaA, organizationId);
    const fresh = await loadOrganization({ db, store }, organizationId);
    expect(cachedA.state).toEqual(fresh.state);
    expect(cachedA.version).toBe(fresh.version);
  });

  it('concurrent commands in one process with a cache run one at a time; across replicas the store decides', async () => {
    const { organizationId } = await newOrganization();
    const shared = { db, store, cache: new OrganizationCache() };
    const replicas = [shared, shared, shared, { db, store, cache: new OrganizationCache() }, { db, store, cache: new OrganizationCache() }];
    const results = await Promise.allSettled(
      replicas.map((deps) =>
        runOrganizationCommand(deps, { kind: 'CreateGroup', organizationId, groupId: randomUUID(), name: 'Same', description: '', memberIds: [] }, meta()),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason.code).toBe('GROUP_NAME_TAKEN');
  });

  it('a retried command id appends nothing and returns the first reply', async () => {
    const { organizationId } = await newOrganization();
    const m = meta();
    const cmd = { kind: 'CreateGroup' as const, organizationId, groupId: randomUUID(), name: 'G', description: '', memberIds: [] };
    const first = await runOrganizationCommand({ db, store }, cmd, m, (events) => events.length);
    const again = await runOrganizationCommand({ db, store }, { ...cmd, groupId: randomUUID() }, m, (events) => events.length);
    expect(first.reply).toBe(1);
    expect(again.reply).toBe(1);
    expect(Object.keys(again.state.groups)).toHaveLength(1);
  });

  it('concurrent group creations with one name: exactly one succeeds, the others are GROUP_NAME_TAKEN', async () => {
    const { organizationId } = await newOrganization();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        runOrganizationCommand({ db, store }, { kind: 'CreateGroup', organizationId, groupId: randomUUID(), name: 'Same', description: '', memberIds: [] }, meta()),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason.code).toBe('GROUP_NAME_TAKEN');
    const { state } = await loadOrganization({ db, store }, organizationId);
    expect(Object.values(state.groups).map((g) => g.name)).toEqual(['Same']);
  });

  it('two concurrent removals of one member: one removes, the other is NOT_FOUND; one member-removed event', async () => {
    const { organizationId, ownerId } = await newOrganization();
    const { state } = await addMembers({ db, store }, organizationId, 1);
    const userId = Object.keys(state.members).find((id) => id !== ownerId)!;
    const results = await Promise.allSettled(
      [1, 2].map(() => runOrganizationCommand({ db, store }, { kind: 'RemoveMember', organizationId, userId, ownerIds: [ownerId] }, meta())),
    );
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)).sort()).toEqual(['NOT_FOUND', 'ok']);
    const events = await store.readStream(organizationStreamId(organizationId));
    expect(events.filter((e) => e.type === 'organization.member-removed')).toHaveLength(1);
  });

  it('an ownership transfer racing the removal of the new owner never leaves a project owned by a non-member', async () => {
    for (let round = 0; round < 5; round++) {
      const { organizationId, ownerId } = await newOrganization();
      const { state } = await addMembers({ db, store }, organizationId, 1);
      const userId = Object.keys(state.members).find((id) => id !== ownerId)!;
      const projectId = randomUUID();
      await runOrganizationCommand({ db, store }, { kind: 'CreateProject', organizationId, projectId, name: 'P', ownerId }, meta());
      const [transfer, removal] = await Promise.allSettled([
        runOrganizationCommand({ db, store }, { kind: 'TransferProject', organizationId, projectId, ownerId: userId }, meta()),
        runOrganizationCommand({ db, store }, { kind: 'RemoveMember', organizationId, userId, ownerIds: [ownerId] }, meta()),
      ]);
      const after = (await loadOrganization({ db, store }, organizationId)).state;
      // exactly one wins: transferred (removal refused OWNS_PROJECTS) or removed (transfer refused NOT_A_MEMBER)
      if (transfer.status === 'fulfilled') {
        expect(removal.status === 'rejected' && (removal.reason as { code: string }).code).toBe('OWNS_PROJECTS');
        expect(after.projects[projectId].ownerId).toBe(userId);
        expect(after.members[userId]).toBeDefined();
      } else {
        expect((transfer.reason as { code: string }).code).toBe('NOT_A_MEMBER');
        expect(removal.status).toBe('fulfilled');
        expect(after.projects[projectId].ownerId).toBe(ownerId);
      }
      expect(after.projects[projectId].ownerId in after.members).toBe(true);
    }
  });

  it('concurrent group creation and removal of a member: the group never holds a non-member', async () => {
    const { organizationId, ownerId } = await newOrganization();
    const { state } = await addMembers({ db, store }, organizationId, 1);
    const userId = Object.keys(state.members).find((id) => id !== ownerId)!;
    await Promise.allSettled([
      runOrganizationCommand({ db, store }, { kind: 'CreateGroup', organizationId, groupId: randomUUID(), name: 'G', description: '', memberIds: [userId] }, meta()),
      runOrganizationCommand({ db, store }, { kind: 'RemoveMember', organizationId, userId, ownerIds: [ownerId] }, meta()),
    ]);
    const after = (await loadOrganization({ db, store }, organizationId)).state;
    for (const g of Object.values(after.groups)) for (const m of g.memberIds) expect(after.members[m]).toBeDefined();
  });
});
