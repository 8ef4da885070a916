import { randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { JSONCodec, headers, type NatsConnection } from 'nats';
import {
  AuditLogSubjects,
  builtInRoleId,
  deadLetterStreamName,
  eventsStreamName,
  evtSubject,
  type ApplyRetentionReply,
  type AuditEntry,
  type DomainEvent,
  type ListEntriesReply,
  type ListEntriesRequest,
  type RebuildReply,
} from '@app/contracts';
import { loadConfig, startService, type RunningService } from '@app/platform';
import { eventProducer, natsRequest, serviceTestEnv, testDatabaseName, testMongo, testNats, testNaming } from '@app/testing';
import { AuditLogModule } from '../audit-log.module';
import { entriesCollection } from './audit.projection';
import { scheduleRetention } from '../retention/retention.job';
import { AUDIT_HOST } from './audit-host.token';
import { AuditProjectionHost } from './audit-projection.host';

const DAY = 24 * 3600 * 1000;

describe('audit-log projection, queries, rebuild and retention (real FerretDB + NATS JetStream)', () => {
  let mongo: MongoClient;
  let nc: NatsConnection;
  let service: RunningService;
  let identity: ReturnType<typeof eventProducer>;
  let membership: ReturnType<typeof eventProducer>;
  const org = randomUUID();
  const otherOrg = randomUUID();
  const alice = randomUUID();
  const actor = { actor: { id: alice, username: 'alice' }, medium: 'api' as const, ip: '10.1.2.3', requestId: 'req-int-1' };
  const list = (req: ListEntriesRequest) => natsRequest<ListEntriesReply>(nc, AuditLogSubjects.listEntries(), req);
  const all = async (req: ListEntriesRequest): Promise<AuditEntry[]> => {
    const items: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ ...req, cursor, limit: 7 });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return items;
  };
  const streamOf = (id: string) => `organization-${id}`;
  const createOrg = (id: string, name: string) =>
    membership.append(
      streamOf(id),
      [
        { type: 'organization.created', version: 1, organizationId: id, data: { organizationId: id, name, slug: name.toLowerCase(), ownerId: alice } },
        {
          type: 'organization.member-added',
          version: 1,
          organizationId: id,
          data: { organizationId: id, userId: alice, username: 'alice', roleId: builtInRoleId(id, 'owner'), via: 'creator' },
        },
      ],
      actor,
    );
  const createAccount = (userId: string, username: string, orgId = org) =>
    identity.append(
      `user-${userId}`,
      [
        {
          type: 'user.created',
          version: 1,
          data: {
            userId,
            username,
            email: `${username}@example.com`,
            name: username,
            createdBy: 'organization',
            managedByOrganizationId: orgId,
            temporaryPassword: true,
          },
        },
      ],
      actor,
    );

  beforeAll(async () => {
    mongo = await testMongo();
    nc = await testNats();
    service = await startService(loadConfig('audit-log', serviceTestEnv('audit-log', { AUDIT_RETENTION_DAYS: '30' })), AuditLogModule);
    identity = eventProducer(mongo.db(testDatabaseName('identity')), 'identity', nc);
    membership = eventProducer(mongo.db(testDatabaseName('membership')), 'membership', nc);
    await identity.store.ensureIndexes();
    await membership.store.ensureIndexes();
    await createOrg(org, 'Acme');
    await createOrg(otherOrg, 'Beta');
  });
  afterAll(async () => {
    await identity?.stop();
    await membership?.stop();
    await service?.close();
    await nc?.close();
    await mongo?.close();
  });

  it('appended events are queryable right away (read-your-writes), with actor, medium, ip and request id', async () => {
    const bob = randomUUID();
    await createAccount(bob, 'bob');
    const { items } = await list({ organizationId: org, resource: 'User' });
    expect(items).toEqual([
      expect.objectContaining({
        organizationId: org,
        resource: 'User',
        operation: 'Added',
        resourceId: bob,
        resourceName: 'bob',
        actor: { id: alice, username: 'alice' },
        medium: 'api',
        ip: '10.1.2.3',
        requestId: 'req-int-1',
      }),
    ]);
    const orgEntries = await list({ organizationId: org });
    expect(orgEntries.items.map((e) => [e.resource, e.operation])).toEqual([
      ['User', 'Added'],
      ['Organization', 'Added'],
    ]);
  });

  it('fans a user event out to every organization the user belongs to, with the username of that moment', async () => {
    const carol = randomUUID();
    await createAccount(carol, 'carol');
    await membership.append(
      streamOf(otherOrg),
      [
        {
          type: 'organization.member-added',
          version: 1,
          organizationId: otherOrg,
          data: { organizationId: otherOrg, userId: carol, username: 'carol', roleId: builtInRoleId(otherOrg, 'member'), via: 'invite' },
        },
      ],
      actor,
    );
    // carol is not yet a member of org (only managed by it): join it, then reset her token and rename her
    await membership.append(
      streamOf(org),
      [
        {
          type: 'organization.member-added',
          version: 1,
          organizationId: org,
          data: { organizationId: org, userId: carol, username: 'carol', roleId: builtInRoleId(org, 'member'), via: 'account' },
        },
      ],
      actor,
    );
    const carolActs = { ...actor, actor: { id: carol, username: 'carol' } };
    await identity.append(`user-${carol}`, [{ type: 'user.api-token-reset', version: 1, data: { userId: carol, tokenId: randomUUID() } }], carolActs);
    await identity.append(
      `user-${carol}`,
      [{ type: 'user.username-changed', version: 1, data: { userId: carol, username: 'caroline', previousUsername: 'carol' } }],
      carolActs,
    );
    await identity.append(
      `user-${carol}`,
      [{ type: 'user.screen-name-changed', version: 1, data: { userId: carol, name: 'Caroline', previousName: 'carol' } }],
      carolActs,
    );

    for (const o of [org, otherOrg]) {
      const { items } = await list({ organizationId: o, actorId: carol });
      expect(items.map((e) => [e.description.split(' ')[0], e.resourceName, e.actor.username])).toEqual([
        ['changed', 'caroline', 'caroline'],
        ['changed', 'caroline', 'carol'],
        ['reset', 'carol', 'carol'],
      ]);
    }
    // the account created by org and joining it are one entry; joining otherOrg by invite is a Member entry
    expect((await list({ organizationId: org, resource: 'Member' })).items).toEqual([]);
    expect((await list({ organizationId: otherOrg, resource: 'Member' })).items.map((e) => e.resourceName)).toEqual(['carol']);
  });

  it('a batch that changes hundreds of directory records (an account batch joining an organization) is written', async () => {
    // FerretDB 1.24 hangs the database on an update command of more than 100 statements: the directory's
    // records are replaced at most 50 per command (directory-cache.ts)
    const big = randomUUID();
    const users = Array.from({ length: 200 }, (_, i) => ({ userId: randomUUID(), username: `big${i}` }));
    await createOrg(big, 'Big');
    await Promise.all(users.map((u) => createAccount(u.userId, u.username, big)));
    await membership.append(
      streamOf(big),
      users.map((u) => ({
        type: 'organization.member-added',
        version: 1,
        organizationId: big,
        data: { organizationId: big, userId: u.userId, username: u.username, roleId: builtInRoleId(big, 'member'), via: 'invite' },
      })),
      actor,
    );
    await identity.append(
      `user-${users[0].userId}`,
      [{ type: 'user.username-changed', version: 1, data: { userId: users[0].userId, username: 'big-renamed', previousUsername: 'big0' } }],
      actor,
    );
    expect((await list({ organizationId: big, resource: 'Member', limit: 500 })).items).toHaveLength(200);
    // the rename reaches the organization: the user's membership is in the directory
    expect((await list({ organizationId: big, resource: 'User', operation: 'Modified' })).items.map((e) => e.resourceName)).toEqual(['big-renamed']);
  });

  it('a redelivered event (published again under another message id) adds nothing', async () => {
    const before = await entriesCollection(service.infra.db).countDocuments();
    const [last] = await membership.store.readStream(streamOf(otherOrg), 0);
    const again: DomainEvent = last;
    await nc.jetstream().publish(testNaming().subject(evtSubject('membership', again.type, again.version)), JSONCodec().encode(again), { msgID: randomUUID() });
    await list({ organizationId: otherOrg }); // waits until the projection has handled it
    expect(await entriesCollection(service.infra.db).countDocuments()).toBe(before);
  });

  it('pages newest first with a cursor that neither skips nor repeats while entries arrive between pages', async () => {
    const pageOrg = randomUUID();
    await createOrg(pageOrg, 'Paging');
    for (let i = 0; i < 12; i++) await createAccount(randomUUID(), `page${i}`, pageOrg);
    const first = await list({ organizationId: pageOrg, limit: 5 });
    expect(first.items).toHaveLength(5);
    // new entries arrive: some newer than everything, one with an old timestamp (a late event)
    for (let i = 0; i < 4; i++) await createAccount(randomUUID(), `late${i}`, pageOrg);
    const old = new Date(Date.now() - 3600_000).toISOString();
    await identity.append(
      `user-${randomUUID()}`,
      [
        {
          type: 'user.created',
          version: 1,
          data: {
            userId: randomUUID(),
            username: 'older',
            email: 'older@example.com',
            name: 'o',
            createdBy: 'organization',
            managedByOrganizationId: pageOrg,
            temporaryPassword: true,
          },
        },
      ],
      { ...actor, timestamp: old },
    );

    const seen = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await list({ organizationId: pageOrg, limit: 5, cursor });
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    const names = seen.map((e) => e.resourceName);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length); // no repeats
    for (let i = 0; i < 12; i++) expect(names).toContain(`page${i}`); // no skips
    expect(names).toContain('older'); // older than the cursor: found on a later page
    expect(names.filter((n) => n?.startsWith('late'))).toEqual([]); // newer than the first page: not in this walk
    expect(names.slice(0, 12)).toEqual(Array.from({ length: 12 }, (_, i) => `page${11 - i}`));
    const times = seen.map((e) => e.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await all({ organizationId: pageOrg })).length).toBe(12 + 4 + 1 + 1);
  });

  it('filters by time range, actor, resource and operation', async () => {
    const now = Date.now();
    const everything = await all({ organizationId: org });
    expect(everything.length).toBeGreaterThan(3);
    expect(await all({ organizationId: org, from: new Date(now + 60_000).toISOString() })).toEqual([]);
    expect(await all({ organizationId: org, to: new Date(now - 3600_000).toISOString() })).toEqual([]);
    const ts = everything[1].timestamp;
    expect((await all({ organizationId: org, from: ts, to: ts })).every((e) => e.timestamp === ts)).toBe(true);
    expect((await all({ organizationId: org, resource: 'Organization' })).map((e) => e.resourceName)).toEqual(['Acme']);
    expect((await all({ organizationId: org, operation: 'Modified' })).every((e) => e.operation === 'Modified')).toBe(true);
    await expect(list({ organizationId: org, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('sends a poison event to the dead-letter subject, counts it in /metrics, and keeps going', async () => {
    const bad = { id: randomUUID(), type: 'user.api-token-reset', version: 1, data: { nope: true } };
    const h = headers();
    await nc
      .jetstream()
      .publish(testNaming().subject(evtSubject('identity', 'user.api-token-reset', 1)), JSONCodec().encode(bad), { msgID: bad.id, headers: h });
    const dave = randomUUID();
    await createAccount(dave, 'dave');
    const { items } = await list({ organizationId: org, actorId: alice, resource: 'User' });
    expect(items[0].resourceName).toBe('dave');
    const metrics = await service.infra.metrics.metrics();
    expect(metrics).toMatch(/dead_letter_events_total\{projection="audit-log",service="audit-log"\} 1/);
    const dlq = await (await nc.jetstreamManager()).streams.info(deadLetterStreamName(testNaming()));
    expect(dlq.state.messages).toBe(1);
    // and the poison event is removed from what the contract check sees at the end of the file
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(eventsStreamName(testNaming()));
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(eventsStreamName(testNaming()), { seq }).catch(() => undefined);
      if (m && JSONCodec<{ id: string }>().decode(m.data).id === bad.id) await jsm.streams.deleteMessage(eventsStreamName(testNaming()), seq);
    }
  });

  it('rebuild drops the projection and replays the stream into the same entries, ids included', async () => {
    const strip = (docs: object[]) => docs.map((d) => JSON.parse(JSON.stringify(d)));
    const before = strip(await entriesCollection(service.infra.db).find().sort({ _id: 1 }).toArray());
    expect(before.length).toBeGreaterThan(20);
    const reply = await natsRequest<RebuildReply>(nc, AuditLogSubjects.rebuild(), {}, 60_000);
    expect(reply.entries).toBe(before.length);
    expect(reply.deadLettered).toBe(0); // the poison event was deleted from the stream above
    const after = strip(await entriesCollection(service.infra.db).find().sort({ _id: 1 }).toArray());
    expect(after).toEqual(before);
    // the live projection takes over after the rebuilt range
    const erin = randomUUID();
    await createAccount(erin, 'erin');
    expect((await list({ organizationId: org, resource: 'User' })).items[0].resourceName).toBe('erin');
    expect(await entriesCollection(service.infra.db).countDocuments()).toBe(before.length + 1);
  });

  it('retention (AUDIT_RETENTION_DAYS=30) deletes entries older than 30 days, by command and by the scheduled job', async () => {
    const oldOrg = randomUUID();
    await createOrg(oldOrg, 'Old');
    const at = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    await createAccount(randomUUID(), 'ancient', oldOrg).then(() => undefined);
    await identity.append(
      `user-${randomUUID()}`,
      [
        {
          type: 'user.created',
          version: 1,
          data: {
            userId: randomUUID(),
            username: 'forty',
            email: 'forty@example.com',
            name: 'f',
            createdBy: 'organization',
            managedByOrganizationId: oldOrg,
            temporaryPassword: true,
          },
        },
      ],
      { ...actor, timestamp: at(40) },
    );
    await identity.append(
      `user-${randomUUID()}`,
      [
        {
          type: 'user.created',
          version: 1,
          data: {
            userId: randomUUID(),
            username: 'twenty',
            email: 'twenty@example.com',
            name: 't',
            createdBy: 'organization',
            managedByOrganizationId: oldOrg,
            temporaryPassword: true,
          },
        },
      ],
      { ...actor, timestamp: at(20) },
    );
    await identity.append(
      `user-${randomUUID()}`,
      [
        {
          type: 'user.created',
          version: 1,
          data: {
            userId: randomUUID(),
            username: 'fifty',
            email: 'fifty@example.com',
            name: 'f',
            createdBy: 'organization',
            managedByOrganizationId: oldOrg,
            temporaryPassword: true,
          },
        },
      ],
      { ...actor, timestamp: at(50) },
    );
    expect((await all({ organizationId: oldOrg, resource: 'User' })).map((e) => e.resourceName)).toEqual(['ancient', 'twenty', 'forty', 'fifty']);

    const reply = await natsRequest<ApplyRetentionReply>(nc, AuditLogSubjects.applyRetention(), {});
    expect(reply).toEqual({ retentionDays: 30, deleted: 2 });
    expect((await all({ organizationId: oldOrg, resource: 'User' })).map((e) => e.resourceName)).toEqual(['ancient', 'twenty']);

    // the scheduled job does the same on its own
    await identity.append(
      `user-${randomUUID()}`,
      [
        {
          type: 'user.created',
          version: 1,
          data: {
            userId: randomUUID(),
            username: 'sixty',
            email: 'sixty@example.com',
            name: 's',
            createdBy: 'organization',
            managedByOrganizationId: oldOrg,
            temporaryPassword: true,
          },
        },
      ],
      { ...actor, timestamp: at(60) },
    );
    expect((await all({ organizationId: oldOrg, resource: 'User' })).map((e) => e.resourceName)).toContain('sixty');
    const stop = scheduleRetention(service.infra, 30, 100);
    try {
      // a wait, not a speed assertion: each look pages the whole organization through the list query
      const deadline = Date.now() + 30_000;
      while ((await all({ organizationId: oldOrg, resource: 'User' })).some((e) => e.resourceName === 'sixty')) {
        if (Date.now() > deadline) throw new Error('the scheduled retention job did not delete the old entry');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await stop();
    }
    // 0 (the default) keeps everything
    const { applyRetention } = await import('../retention/retention.job');
    expect(await applyRetention(service.infra.db, 0)).toBe(0);
  }, 120_000);

  it('one replica writes at a time (lease); a standby takes over when the writer stops', async () => {
    const leader = service.app.get<AuditProjectionHost>(AUDIT_HOST);
    const standby = new AuditProjectionHost(service.infra, { renewEveryMs: 100 });
    standby.start();
    try {
      const frank = randomUUID();
      await createAccount(frank, 'frank');
      expect((await list({ organizationId: org, resource: 'User' })).items[0].resourceName).toBe('frank');
      await new Promise((r) => setTimeout(r, 300));
      expect((await service.infra.db.collection('projection_leases').findOne({ _id: 'audit-log' as never }))?.owner).toBe(leader.lease.owner);

      await leader.stop(); // releases the lease
      const gina = randomUUID();
      await createAccount(gina, 'gina');
      expect((await list({ organizationId: org, resource: 'User' })).items[0].resourceName).toBe('gina');
      expect((await service.infra.db.collection('projection_leases').findOne({ _id: 'audit-log' as never }))?.owner).toBe(standby.lease.owner);
    } finally {
      await standby.stop();
      leader.start();
    }
    const hank = randomUUID();
    await createAccount(hank, 'hank');
    expect((await list({ organizationId: org, resource: 'User' })).items[0].resourceName).toBe('hank');
  });
});
