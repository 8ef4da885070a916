import { randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import {
  AccessSubjects,
  AuthorizationSubjects,
  builtInRoleId,
  type CheckPermissionsReply,
  type CommandMeta,
  type EffectivePermissionsReply,
  type NewEvent,
  type ProjectMembersPage,
  type RolesReply,
  type RoleView,
  eventsStreamName,
  PERMISSIONS,
} from '@app/contracts';
import { createEventStore, createOutboxRelay, type EventStore, type OutboxRelay } from '@app/event-store';
import { createLogger, METRICS_REGISTRY, startService, type RunningService } from '@app/platform';
import { natsRequest, serviceTestConfig, testDatabaseName, testMongo, testNats, testNaming } from '@app/testing';
import { AuthorizationModule, type AuthorizationOptions } from './authorization.module';
import { ACCESS_VIEW } from './access/access.tokens';
import { runAccessCommand } from './access/access.runner';
import type { AccessView } from './view/access-view';
import { SNAPSHOT_FORMAT, snapshotStore, type SnapshotHead } from './view/view-snapshot';

/**
 * Authorization against real FerretDB and NATS JetStream: membership events (people, groups, projects and the
 * role bindings) are appended to a real event store in a membership database and published by the real outbox
 * relay, exactly as the membership service does; two authorization replicas are driven over NATS request/reply.
 */
describe('authorization service (integration)', () => {
  let mongo: MongoClient;
  let nc: NatsConnection;
  let membership: EventStore;
  let relay: OutboxRelay;
  const replicas: RunningService[] = [];
  const versions = new Map<string, number>();

  const meta = (actorId: string): CommandMeta => ({
    commandId: randomUUID(),
    actor: { id: actorId, username: 'someone' },
    correlationId: randomUUID(),
    medium: 'api',
    timestamp: new Date().toISOString(),
  });

  const rpc = <T>(subject: string, body: unknown, actorId = 'system', commandId = randomUUID()): Promise<T> =>
    natsRequest<T>(nc, subject, body, { meta: { ...meta(actorId), commandId }, timeoutMs: 10_000 });

  /** Appends membership events to `organization-<id>` and publishes them before returning, as membership does before it replies. */
  async function membershipEvents(orgId: string, ...events: Array<[string, Record<string, unknown>]>): Promise<void> {
    const streamId = `organization-${orgId}`;
    const version = versions.get(streamId) ?? 0;
    const newEvents: NewEvent[] = events.map(([type, data]) => ({ type, version: 1, organizationId: orgId, data: { organizationId: orgId, ...data } }));
    await membership.append(streamId, version, newEvents, { commandId: randomUUID(), meta: meta('system') });
    versions.set(streamId, version + events.length);
    await relay.flushStream(streamId);
  }

  const check = (orgId: string, userId: string, permissions: string[], projectId: string | null = null) =>
    rpc<CheckPermissionsReply>(AuthorizationSubjects.check(), { organizationId: orgId, userId, projectId, permissions });

  async function newOrganization(ownerId = randomUUID()) {
    const orgId = randomUUID();
    await membershipEvents(
      orgId,
      ['organization.created', { name: 'Acme', slug: `acme-${orgId.slice(0, 8)}`, ownerId }],
      ['organization.member-added', { userId: ownerId, username: 'olivia', roleId: builtInRoleId(orgId, 'owner'), via: 'creator' }],
    );
    return { orgId, ownerId };
  }
  const addMember = (orgId: string, userId: string, key: 'member' | 'admin' | 'owner' = 'member', username = `u${userId.slice(0, 8)}`) =>
    membershipEvents(orgId, ['organization.member-added', { userId, username, roleId: builtInRoleId(orgId, key), via: 'invite' }]);
  /** a binding, as membership's organization decider appends it */
  const bind = (orgId: string, subjectType: 'user' | 'group', subjectId: string, roleId: string, projectId: string | null = null) =>
    membershipEvents(orgId, ['role.assigned', { subjectType, subjectId, projectId, roleId, roleName: 'r', previousRoleId: null }]);

  beforeAll(async () => {
    mongo = await testMongo();
    nc = await testNats();
    const db = mongo.db(testDatabaseName('membership'));
    relay = createOutboxRelay({ commits: db.collection('commits'), js: nc.jetstream(), naming: testNaming(), service: 'membership' });
    membership = createEventStore(db, { service: 'membership', onAppended: (c) => relay.onAppended(c) });
    await membership.ensureIndexes();
    // the events stream exists once a service has started
    for (let i = 0; i < 2; i++) replicas.push(await startService(serviceTestConfig('authorization'), AuthorizationModule.register()));
  });

  afterAll(async () => {
    for (const r of replicas) await r.close();
    await relay?.stop();
    await nc?.close();
    await mongo?.close();
  });

  it('follows membership events: creator Owner, member Member, non-members nothing; the very next check sees each write', async () => {
    const { orgId, ownerId } = await newOrganization();
    expect(await check(orgId, ownerId, ['organization.delete', 'organization.view'])).toEqual({
      member: true,
      allowed: { 'organization.delete': true, 'organization.view': true },
    });
    for (let i = 0; i < 10; i++) {
      const userId = randomUUID();
      await addMember(orgId, userId);
      expect(await check(orgId, userId, ['organization.view', 'organization.people.view'])).toEqual({
        member: true,
        allowed: { 'organization.view': true, 'organization.people.view': false },
      });
      await membershipEvents(orgId, ['organization.member-removed', { userId, username: 'gone', groupIds: [] }]);
      expect((await check(orgId, userId, ['organization.view'])).member).toBe(false);
    }
    expect((await check(randomUUID(), ownerId, ['organization.view'])).member).toBe(false);
  });

  it('groups and projects: group role for its members, project creator is project Admin, deleted project and group take it away', async () => {
    const { orgId, ownerId } = await newOrganization();
    const dev = randomUUID();
    const groupId = randomUUID();
    const projectId = randomUUID();
    await addMember(orgId, dev);
    await membershipEvents(orgId, ['group.created', { groupId, name: 'Devs', description: '', memberIds: [dev], roleId: builtInRoleId(orgId, 'member') }]);
    await membershipEvents(orgId, ['project.created', { projectId, name: 'api', ownerId: dev }]);
    expect((await check(orgId, dev, ['project.access.manage'], projectId)).allowed['project.access.manage']).toBe(true);
    expect((await check(orgId, ownerId, ['project.delete'], projectId)).allowed['project.delete']).toBe(true);

    await bind(orgId, 'group', groupId, builtInRoleId(orgId, 'admin'));
    expect((await check(orgId, dev, ['organization.people.manage'])).allowed['organization.people.manage']).toBe(true);
    const members = await rpc<ProjectMembersPage>(AccessSubjects.projectMembers(), { organizationId: orgId, projectId });
    expect(members.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'user', id: dev, roles: [expect.objectContaining({ name: 'Admin', source: 'project' })] }),
        expect.objectContaining({
          type: 'user',
          id: ownerId,
          roles: [expect.objectContaining({ name: 'Admin', source: 'organization', organizationRole: expect.objectContaining({ name: 'Owner' }) })],
        }),
        expect.objectContaining({ type: 'group', id: groupId, name: 'Devs', roles: [expect.objectContaining({ source: 'organization' })] }),
      ]),
    );

    await membershipEvents(orgId, ['group.deleted', { groupId, name: 'Devs' }]);
    expect((await check(orgId, dev, ['organization.people.manage'])).allowed['organization.people.manage']).toBe(false);
    await membershipEvents(orgId, ['project.deleted', { projectId, name: 'api' }]);
    expect((await check(orgId, dev, ['project.view'], projectId)).member).toBe(false);
  });

  it('custom roles over NATS, bound through membership, with effective permissions and their sources; editing a role changes its holders at once', async () => {
    const { orgId, ownerId } = await newOrganization();
    const user = randomUUID();
    await addMember(orgId, user);
    const role = await rpc<RoleView>(
      AccessSubjects.createRole(),
      { organizationId: orgId, name: 'Auditor', description: 'logs', scope: 'organization', permissions: ['organization.audit_logs.view'] },
      ownerId,
    );
    expect(role).toMatchObject({ name: 'Auditor', builtIn: false, permissions: ['organization.view', 'organization.audit_logs.view'] });
    await expect(
      rpc(AccessSubjects.createRole(), { organizationId: orgId, name: 'auditor', description: '', scope: 'organization', permissions: [] }, ownerId),
    ).rejects.toMatchObject({ code: 'ROLE_NAME_TAKEN' });

    await bind(orgId, 'user', user, role.id);
    expect((await check(orgId, user, ['organization.audit_logs.view', 'organization.secrets.view'])).allowed).toEqual({
      'organization.audit_logs.view': true,
      'organization.secrets.view': false,
    });
    const effective = await rpc<EffectivePermissionsReply>(AccessSubjects.effectivePermissions(), { organizationId: orgId, userId: user });
    expect(effective.permissions.map((p) => p.name)).toEqual(['organization.view', 'organization.audit_logs.view']);
    expect(effective.permissions[1].sources).toEqual([{ roleId: role.id, roleName: 'Auditor', via: 'direct', scope: 'organization' }]);

    await rpc(AccessSubjects.changeRole(), { organizationId: orgId, roleId: role.id, permissions: ['organization.okta.view'] }, ownerId);
    expect((await check(orgId, user, ['organization.audit_logs.view', 'organization.okta.view'])).allowed).toEqual({
      'organization.audit_logs.view': false,
      'organization.okta.view': true,
    });
    await expect(rpc(AccessSubjects.deleteRole(), { organizationId: orgId, roleId: role.id }, ownerId)).rejects.toMatchObject({ code: 'ROLE_IN_USE' });
    await bind(orgId, 'user', user, builtInRoleId(orgId, 'member'));
    await rpc(AccessSubjects.deleteRole(), { organizationId: orgId, roleId: role.id }, ownerId);
    await expect(rpc(AccessSubjects.getRole(), { organizationId: orgId, roleId: role.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a command retried with the same command id is applied once and answers the same', async () => {
    const { orgId, ownerId } = await newOrganization();
    const commandId = randomUUID();
    const body = { organizationId: orgId, name: 'Once', description: '', scope: 'project', permissions: ['project.job.stop'] };
    const [a, b] = await Promise.all([
      rpc<RoleView>(AccessSubjects.createRole(), body, ownerId, commandId),
      rpc<RoleView>(AccessSubjects.createRole(), body, ownerId, commandId),
    ]);
    const c = await rpc<RoleView>(AccessSubjects.createRole(), body, ownerId, commandId);
    expect(b.id).toBe(a.id);
    expect(c.id).toBe(a.id);
    const roles = await rpc<{ items: RoleView[] }>(AccessSubjects.listRoles(), { organizationId: orgId, scope: 'project' });
    expect(roles.items.filter((r) => r.name === 'Once')).toHaveLength(1);
  });

  it('a copy of a command decided after the first copy landed answers as a duplicate, not with the refusal the new state gives', async () => {
    // the copy reads the stream version and looks its command id up (nothing yet); then, before it decides,
    // the first copy is appended and applied to the view: deciding now would say ROLE_NAME_TAKEN
    const { orgId, ownerId } = await newOrganization();
    const replica = replicas[0];
    const deps = { store: replica.infra.store, relay: replica.infra.relay, view: replica.app.get<AccessView>(ACCESS_VIEW) };
    const command = {
      kind: 'CreateRole' as const,
      organizationId: orgId,
      roleId: randomUUID(),
      name: 'Gated',
      description: '',
      scope: 'project' as const,
      permissions: ['project.job.stop'],
    };
    const sameMeta = meta(ownerId);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let lookUps = 0;
    const gatedStore = {
      ...deps.store,
      findByCommand: async (id: string) => {
        const found = await deps.store.findByCommand(id);
        if (lookUps++ === 0) await gate;
        return found;
      },
    };
    const copy = runAccessCommand({ ...deps, store: gatedStore }, { ...command, roleId: randomUUID() }, sameMeta);
    while (lookUps === 0) await new Promise((r) => setTimeout(r, 5));
    const first = await runAccessCommand(deps, command, sameMeta);
    release();
    const second = await copy;
    expect(second).toEqual({ events: first.events, duplicate: true });
    const roles = await rpc<{ items: RoleView[] }>(AccessSubjects.listRoles(), { organizationId: orgId, scope: 'project' });
    expect(roles.items.filter((r) => r.name === 'Gated')).toHaveLength(1);
  });

  it('roles: the custom roles from the event store (what membership decides grants with), even before the view has them', async () => {
    const { orgId, ownerId } = await newOrganization();
    const made = await rpc<RoleView>(
      AccessSubjects.createRole(),
      { organizationId: orgId, name: 'Deployer', description: '', scope: 'project', permissions: ['project.job.stop'] },
      ownerId,
    );
    expect((await rpc<RolesReply>(AuthorizationSubjects.roles(), { organizationId: orgId })).roles).toEqual([made]);
    // a commit on the access stream that is not published yet (the relay's sweep takes it later): the write side has it
    const store = createEventStore(mongo.db(testDatabaseName('authorization')), { service: 'authorization' });
    const later = randomUUID();
    await store.append(
      `access-${orgId}`,
      1,
      [
        {
          type: 'role.changed',
          version: 1,
          organizationId: orgId,
          data: {
            organizationId: orgId,
            roleId: made.id,
            name: 'Deployer',
            description: 'now',
            scope: 'project',
            permissions: ['project.view'],
            previousName: 'Deployer',
          },
        },
        {
          type: 'role.created',
          version: 1,
          organizationId: orgId,
          data: { organizationId: orgId, roleId: later, name: 'Later', description: '', scope: 'organization', permissions: ['organization.view'] },
        },
      ],
      { commandId: randomUUID(), meta: meta(ownerId) },
    );
    const view = replicas[0].app.get<AccessView>(ACCESS_VIEW);
    expect(view.find(orgId)!.roles.has(later)).toBe(false);
    const { roles } = await rpc<RolesReply>(AuthorizationSubjects.roles(), { organizationId: orgId });
    expect(roles.map((r) => [r.name, r.description, r.permissions])).toEqual([
      ['Deployer', 'now', ['project.view']],
      ['Later', '', ['organization.view']],
    ]);
    expect(await rpc<RolesReply>(AuthorizationSubjects.roles(), { organizationId: randomUUID() })).toEqual({ roles: [] });
    await expect(rpc(AuthorizationSubjects.roles(), { organizationId: 'nope' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('a binding to a custom role deleted concurrently (the in-use check read a view without it): the holder counts as Member', async () => {
    const { orgId, ownerId } = await newOrganization();
    const user = randomUUID();
    await addMember(orgId, user);
    const role = await rpc<RoleView>(
      AccessSubjects.createRole(),
      { organizationId: orgId, name: 'Okta', description: '', scope: 'organization', permissions: ['organization.okta.view'] },
      ownerId,
    );
    await rpc(AccessSubjects.deleteRole(), { organizationId: orgId, roleId: role.id }, ownerId);
    await bind(orgId, 'user', user, role.id);
    expect((await check(orgId, user, ['organization.okta.view', 'organization.secrets.manage'])).allowed).toEqual({
      'organization.okta.view': false,
      'organization.secrets.manage': true,
    });
    const effective = await rpc<EffectivePermissionsReply>(AccessSubjects.effectivePermissions(), { organizationId: orgId, userId: user });
    expect(new Set(effective.permissions.flatMap((p) => p.sources.map((x) => x.roleName)))).toEqual(new Set(['Member']));
  });

  it('every replica holds the whole view; a restarted replica rebuilds it from the stream', async () => {
    const { orgId, ownerId } = await newOrganization();
    const views = replicas.map((r) => r.app.get<AccessView>(ACCESS_VIEW));
    await Promise.all(views.map((v) => v.catchUp()));
    expect(views[0].sequence).toBe(views[1].sequence);
    await replicas.shift()!.close();
    replicas.push(await startService(serviceTestConfig('authorization'), AuthorizationModule.register()));
    const fresh = replicas[1].app.get<AccessView>(ACCESS_VIEW);
    await fresh.catchUp();
    expect(fresh.find(orgId)?.owners()).toEqual([ownerId]);
    expect(fresh.sequence).toBe(views[1].sequence);
  });
  // ---------------------------------------------------------------------------------------------- snapshots

  /** every replica's log lines (info and up), for the failure messages of the waits below */
  const logsOf = new WeakMap<RunningService, string[]>();
  const startReplica = async (options?: AuthorizationOptions) => {
    const lines: string[] = [];
    const logger = createLogger('authorization', 'info', { write: (line: string) => void lines.push(line) });
    const replica = await startService(serviceTestConfig('authorization'), AuthorizationModule.register(options), { logger });
    logsOf.set(replica, lines);
    return replica;
  };
  const viewOf = (r: RunningService) => r.app.get<AccessView>(ACCESS_VIEW);
  const heads = () => mongo.db(testDatabaseName('authorization')).collection<SnapshotHead>('view_snapshots');
  /** a snapshot write is a few FerretDB writes, slow when the machine runs many test files at once */
  const SNAPSHOT_WAIT_MS = 60_000;
  jest.setTimeout(3 * SNAPSHOT_WAIT_MS);
  const lastSequence = async () => (await (await nc.jetstreamManager()).streams.info(eventsStreamName(testNaming()))).state.last_seq;
  async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const found = await probe();
      if (found) return found;
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  /**
   * Until `writer` has written a snapshot at least at what it has applied once caught up. Not "at the stream's last
   * sequence": an event that an earlier test's relay publishes late would make that a moving target.
   */
  async function snapshotOfAll(writer: RunningService, what: string): Promise<void> {
    await viewOf(writer).catchUp();
    const at = viewOf(writer).sequence;
    try {
      await until(
        what,
        async () =>
          heads()
            .find({ sequence: { $gte: at } })
            .next(),
        SNAPSHOT_WAIT_MS,
      );
    } catch (err) {
      // what the writer did meanwhile: its snapshot lines (written, not written) and where its view stands
      const heads_ = await heads().find().project({ sequence: 1, stream: 1, createdAt: 1 }).toArray();
      const lines = (logsOf.get(writer) ?? []).filter((l) => /snapshot|"level":(40|50)/.test(l));
      const metrics = (await writer.app.get<Registry>(METRICS_REGISTRY).metrics()).split('\n').filter((l) => /^(projection_lag|authorization_view)/.test(l));
      throw new Error(
        `${(err as Error).message} at sequence ${at}: the view is at ${viewOf(writer).sequence}, the stream ends at ${await lastSequence()}; ` +
          `heads ${JSON.stringify(heads_)}; the writer's metrics:\n${metrics.join('\n')}\nthe writer's log:\n${lines.join('')}`,
      );
    }
  }
  /** Every check of every user in every project of the organization, and the whole view serialized. */
  function answers(view: AccessView, orgId: string, users: string[], projects: string[]) {
    const org = view.find(orgId)!;
    const all = PERMISSIONS.map((p) => p.name);
    return {
      checks: users.flatMap((u) => [null, ...projects].map((p) => org.check(u, p, all))),
      owners: org.owners(),
      view: JSON.stringify(view.snapshot()),
    };
  }

  /** An organization with members, a group, projects, a custom role and bindings, written through the services. */
  async function populatedOrganization() {
    const { orgId, ownerId } = await newOrganization();
    const users = [ownerId, randomUUID(), randomUUID(), randomUUID()];
    const [groupId, p1, p2] = [randomUUID(), randomUUID(), randomUUID()];
    for (const u of users.slice(1)) await addMember(orgId, u);
    await membershipEvents(orgId, [
      'group.created',
      { groupId, name: 'Ops', description: '', memberIds: users.slice(1, 3), roleId: builtInRoleId(orgId, 'member') },
    ]);
    await membershipEvents(
      orgId,
      ['project.created', { projectId: p1, name: 'api', ownerId: users[1] }],
      ['project.created', { projectId: p2, name: 'web', ownerId: users[2] }],
    );
    const role = await rpc<RoleView>(
      AccessSubjects.createRole(),
      { organizationId: orgId, name: 'Deployer', description: '', scope: 'project', permissions: ['project.job.stop'] },
      ownerId,
    );
    await bind(orgId, 'group', groupId, role.id, p2);
    await bind(orgId, 'user', users[3], builtInRoleId(orgId, 'admin'));
    return { orgId, ownerId, users, groupId, projects: [p1, p2], role };
  }

  it('snapshots: a replica writes them; a restarted one starts from the newest, consumes only the tail and answers as a full replay', async () => {
    const org = await populatedOrganization();
    const writer = await startReplica({ snapshots: { everyEvents: 1, everyMs: 0, checkEveryMs: 50 } });
    await snapshotOfAll(writer, 'a snapshot with the organization');
    await writer.close();
    const head = (await heads().find().sort({ sequence: -1 }).next())!;
    expect(head).toMatchObject({ format: SNAPSHOT_FORMAT, chunks: 1 });
    const snapshotAt = head.sequence;

    // the tail: written after the snapshot, including access taken away and given
    await membershipEvents(org.orgId, ['group.member-removed', { groupId: org.groupId, groupName: 'Ops', userId: org.users[1] }]);
    await membershipEvents(org.orgId, ['organization.member-removed', { userId: org.users[2], username: 'xavier', groupIds: [org.groupId] }]);
    await rpc(
      AccessSubjects.changeRole(),
      { organizationId: org.orgId, roleId: org.role.id, permissions: ['project.job.stop', 'project.job.rerun'] },
      org.ownerId,
    );
    const end = await lastSequence();
    expect(end).toBeGreaterThan(snapshotAt);

    const fromSnapshot = await startReplica();
    const replayed = await startReplica({ snapshots: false });
    try {
      const [s, r] = [viewOf(fromSnapshot), viewOf(replayed)];
      await Promise.all([s.catchUp(), r.catchUp()]);
      expect(s.sequence).toBeGreaterThanOrEqual(end);
      expect(s.consumed).toBe(s.sequence - snapshotAt); // only the tail
      expect(r.consumed).toBe(r.sequence); // everything
      expect(answers(s, org.orgId, org.users, org.projects)).toEqual(answers(r, org.orgId, org.users, org.projects));
      expect(s.find(org.orgId)!.check(org.users[1], org.projects[1], ['project.job.stop']).allowed['project.job.stop']).toBe(false);
      expect(s.find(org.orgId)!.check(org.users[2], null, ['organization.view']).member).toBe(false);
    } finally {
      await fromSnapshot.close();
      await replayed.close();
    }
  });

  it('snapshots: one of an unknown format or with a damaged chunk is ignored (the next older one, else a full replay)', async () => {
    const org = await populatedOrganization();
    const writer = await startReplica({ snapshots: { everyEvents: 1, everyMs: 0, checkEveryMs: 50 } });
    await snapshotOfAll(writer, 'a snapshot with the organization');
    await addMember(org.orgId, randomUUID());
    await snapshotOfAll(writer, 'a snapshot with the new member');
    await writer.close();
    // the two heads kept (older ones are pruned)
    const [newest, older] = await heads().find().sort({ sequence: -1 }).limit(2).toArray();
    const chunks = mongo.db(testDatabaseName('authorization')).collection<{ _id: string }>('view_snapshot_chunks');
    const start = async () => {
      const r = await startReplica();
      const view = viewOf(r);
      const startedFrom = view.sequence - view.consumed;
      const replayed = await startReplica({ snapshots: false });
      const same = answers(view, org.orgId, org.users, org.projects);
      expect(same).toEqual(answers(viewOf(replayed), org.orgId, org.users, org.projects));
      await r.close();
      await replayed.close();
      return startedFrom;
    };

    await heads().updateOne({ _id: newest._id }, { $set: { format: SNAPSHOT_FORMAT + 1 } });
    expect(await start()).toBe(older.sequence);
    await chunks.updateOne({ _id: `${older._id}:0` }, { $set: { data: Buffer.from('not a snapshot') } });
    expect(await start()).toBe(0);
  });

  it('snapshots: a snapshot larger than a chunk is stored in several and read back whole', async () => {
    await populatedOrganization();
    const view = viewOf(replicas[0]);
    await view.catchUp();
    const store = snapshotStore(mongo.db(testDatabaseName('authorization')), { chunkBytes: 200 });
    const stream = {
      name: eventsStreamName(testNaming()),
      created: (await (await nc.jetstreamManager()).streams.info(eventsStreamName(testNaming()))).created,
    };
    // taken once: the view may apply a late event while the snapshot is written
    const snapshot = view.snapshot();
    const head = (await store.write(snapshot, stream))!;
    expect(head.chunks).toBeGreaterThan(3);
    const loaded = await store.load(stream, head.sequence);
    expect(loaded?.head._id).toBe(head._id);
    expect(JSON.stringify(loaded?.snapshot)).toBe(JSON.stringify(snapshot));
  });

  it('snapshots: the stream may lose the events a snapshot covers; a replica refuses to start when it lost any after it', async () => {
    const org = await populatedOrganization();
    const writer = await startReplica({ snapshots: { everyEvents: 1, everyMs: 0, checkEveryMs: 50 } });
    await snapshotOfAll(writer, 'a snapshot with the organization');
    await writer.close();
    const at = (await heads().find().sort({ sequence: -1 }).next())!.sequence;
    await addMember(org.orgId, randomUUID());
    const jsm = await nc.jetstreamManager();

    await jsm.streams.purge(eventsStreamName(testNaming()), { seq: at + 1 }); // everything up to the snapshot is gone
    const r = await startReplica();
    await viewOf(r).catchUp();
    // started from the snapshot and consumed only the tail (the added member, and whatever another
    // service's outbox published after the snapshot was taken)
    expect(viewOf(r).sequence - viewOf(r).consumed).toBe(at);
    expect(viewOf(r).sequence).toBe(await lastSequence());
    expect(viewOf(r).find(org.orgId)!.owners()).toEqual([org.ownerId]);
    await r.close();

    await jsm.streams.purge(eventsStreamName(testNaming()), { seq: at + 2 }); // and the first event after it
    await expect(startReplica()).rejects.toThrow(/events stream starts at sequence .* needs it from/);
    await expect(startReplica({ snapshots: false })).rejects.toThrow(/needs it from 1/);
  });
});
