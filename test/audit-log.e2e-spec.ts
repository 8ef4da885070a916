import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import request from 'supertest';
import type { NatsConnection } from 'nats';
import {
  IdentitySubjects,
  slugify,
  stableUuid,
  systemMeta,
  type AuditEntry,
  type CreateAccountsReply,
  type NewEvent,
  type ResetPasswordReply,
} from '@app/contracts';
import { createEventStore, createOutboxRelay } from '@app/event-store';
import { parseCsv, testDatabaseName, testMongo, testNats, testNaming, testPrefix } from '@app/testing';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem, natsQuery } from './support/system';

const ORG_NAME = 'Audit Org';

describe('audit log through the gateway (API.md "Audit log")', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;
  let token = BOOTSTRAP_TOKEN;
  let adminId: string;
  const orgId = stableUuid(`bootstrap-org:${slugify(ORG_NAME)}`);
  /** every secret this file sees; none may appear in a stored entry */
  const secrets: string[] = [BOOTSTRAP_TOKEN];
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const logs = (org: string, query: Record<string, string | number> = {}) => http.get(`/api/v1/organizations/${org}/audit-logs`).query(query).set(auth());
  const allEntries = async (org: string, query: Record<string, string> = {}): Promise<AuditEntry[]> => {
    const items: AuditEntry[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await logs(org, { ...query, limit: 500, ...(cursor ? { cursor } : {}) }).expect(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  };
  const byRequest = async (requestId: string) => (await allEntries(orgId)).filter((e) => e.requestId === requestId);

  /** the services' log lines at level error: printed when the rebuild fails */
  const logLines: string[] = [];

  beforeAll(async () => {
    system = await startSystem({ BOOTSTRAP_ORG_NAME: ORG_NAME, LOG_LEVEL: 'error' }, { logLines });
    nc = await testNats();
    http = request(system.baseUrl);
    adminId = (await http.get('/api/v1/me').set(auth()).expect(200)).body.id;
    await eventually(async () => (await logs(orgId)).body.items?.length > 0, 15_000, 'the bootstrap organization in its audit log');
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  it('the bootstrap organization has one entry: Organization Added by system', async () => {
    const res = await logs(orgId).expect(200);
    expect(res.body).toEqual({
      items: [
        expect.objectContaining({
          resource: 'Organization',
          operation: 'Added',
          resourceId: orgId,
          resourceName: ORG_NAME,
          actor: { id: 'system', username: 'system' },
          medium: 'system',
        }),
      ],
      nextCursor: null,
    });
  });

  it('profile, username, email and token changes each show up once, with actor, request id, IP and medium', async () => {
    await http.patch('/api/v1/me').set(auth()).set('X-Request-Id', 'req-name-1').set('User-Agent', 'curl/8.5.0').send({ name: 'Ada Admin' }).expect(200);
    await http.patch('/api/v1/me').set(auth()).set('X-Request-Id', 'req-username-1').send({ username: 'ada' }).expect(200);
    await http.put('/api/v1/me/email').set(auth()).set('X-Request-Id', 'req-email-1').set('X-Client', 'web').send({ email: 'ada@example.com' }).expect(200);
    const reset = await http.post('/api/v1/me/token').set(auth()).set('X-Request-Id', 'req-token-1').expect(200);
    token = reset.body.token;
    secrets.push(token);

    const expectOne = async (requestId: string, fields: Partial<AuditEntry>) => {
      // the service publishes its event right after the append, concurrently with its reply: allow for that
      const found = await eventually(
        async () => {
          const l = await byRequest(requestId);
          return l.length ? l : undefined;
        },
        5000,
        `the entry of ${requestId}`,
      );
      expect(found).toEqual([
        expect.objectContaining({ resource: 'User', operation: 'Modified', resourceId: adminId, ip: '127.0.0.1', organizationId: orgId, ...fields }),
      ]);
    };
    await expectOne('req-name-1', { medium: 'cli', actor: { id: adminId, username: 'admin' }, metadata: { name: 'Ada Admin', previousName: 'admin' } });
    await expectOne('req-username-1', { medium: 'api', resourceName: 'ada', actor: { id: adminId, username: 'admin' } });
    // from here on the actor has the new name; entries written before keep the old one
    await expectOne('req-email-1', { medium: 'web', resourceName: 'ada', actor: { id: adminId, username: 'ada' } });
    await expectOne('req-token-1', { medium: 'api', description: 'reset the personal API token', actor: { id: adminId, username: 'ada' } });
    expect(JSON.stringify(await byRequest('req-token-1'))).not.toContain(token);
  });

  it('accounts created by the organization give one entry each; a password reset one more', async () => {
    const reply = await natsQuery<CreateAccountsReply>(nc, IdentitySubjects.createAccounts(), {
      organizationId: orgId,
      accounts: [{ email: 'one@example.com' }, { email: 'two@example.com' }, { email: 'three@example.com' }],
    });
    secrets.push(...reply.created.map((c) => c.temporaryPassword));
    const { temporaryPassword } = await natsQuery<ResetPasswordReply>(nc, IdentitySubjects.resetPassword(), {
      organizationId: orgId,
      userId: reply.created[0].userId,
    });
    secrets.push(temporaryPassword);

    const users = (await logs(orgId, { resource: 'User', operation: 'Added' }).expect(200)).body.items as AuditEntry[];
    expect(users.map((e) => e.resourceName).sort()).toEqual(['one', 'three', 'two']);
    const resets = (await logs(orgId, { resource: 'User', actorId: 'system', operation: 'Modified' }).expect(200)).body.items as AuditEntry[];
    expect(resets).toEqual([
      expect.objectContaining({ resourceId: reply.created[0].userId, resourceName: 'one', metadata: { reason: 'reset', temporary: true } }),
    ]);
  });

  it('filters by resource, operation, actor and time; pages with a cursor; refuses bad parameters with 400', async () => {
    const everything = await allEntries(orgId);
    const page1 = (await logs(orgId, { limit: 2 }).expect(200)).body;
    expect(page1.items).toEqual(everything.slice(0, 2));
    const page2 = (await logs(orgId, { limit: 2, cursor: page1.nextCursor }).expect(200)).body;
    expect(page2.items).toEqual(everything.slice(2, 4));

    const mine = await allEntries(orgId, { actorId: adminId });
    expect(mine.map((e) => e.requestId)).toEqual(['req-token-1', 'req-email-1', 'req-username-1', 'req-name-1']);
    expect(await allEntries(orgId, { resource: 'Organization' })).toHaveLength(1);
    expect((await allEntries(orgId, { operation: 'Added' })).every((e) => e.operation === 'Added')).toBe(true);
    const tokenAt = mine[0].timestamp;
    expect((await allEntries(orgId, { actorId: adminId, from: tokenAt })).map((e) => e.requestId)).toEqual(['req-token-1']);
    expect((await allEntries(orgId, { actorId: adminId, to: mine[1].timestamp })).map((e) => e.requestId)).toEqual([
      'req-email-1',
      'req-username-1',
      'req-name-1',
    ]);

    const bads: Array<Record<string, string | number>> = [
      { limit: 0 },
      { limit: 501 },
      { resource: 'Planet' },
      { operation: 'Exploded' },
      { from: 'yesterday' },
      { cursor: 'garbage' },
      { unknown: 'x' },
    ];
    for (const bad of bads) {
      const res = await logs(orgId, bad);
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const noAuth = await http.get(`/api/v1/organizations/${orgId}/audit-logs`);
    expect(noAuth.status).toBe(401);
  });

  it('exports many entries as CSV with a header row, the same filters and the same order as the list', async () => {
    // 1,100 group entries appended straight to the event log as the membership service would (its routes are
    // built in parallel), in commits of 100 events
    // (its client is closed at the end: an open MongoClient's heartbeat timer would keep jest alive after the run)
    const mongo = await testMongo();
    try {
      const db = mongo.db(testDatabaseName('membership-bulk'));
      let relay: ReturnType<typeof createOutboxRelay> | undefined;
      const store = createEventStore(db, { service: 'membership', onAppended: (c) => relay?.onAppended(c) });
      relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service: 'membership' });
      const streamId = `bulk-${randomUUID()}`;
      for (let c = 0; c < 11; c++) {
        const events: NewEvent[] = Array.from({ length: 100 }, (_, i) => ({
          type: 'group.created',
          version: 1,
          organizationId: orgId,
          data: {
            organizationId: orgId,
            groupId: randomUUID(),
            name: i === 0 && c === 0 ? '=cmd|"/c calc"!A0' : `Group ${c * 100 + i}, "quoted"`,
            description: 'line one\nline two',
            memberIds: [],
            roleId: randomUUID(),
          },
        }));
        const commandId = randomUUID();
        await store.append(streamId, c * 100, events, {
          commandId,
          meta: { ...systemMeta(commandId), actor: { id: adminId, username: 'ada' }, medium: 'api' },
        });
      }
      await relay.flushStream(streamId);
      await relay.stop();
    } finally {
      await mongo.close();
    }

    const list = await allEntries(orgId);
    expect(list.length).toBeGreaterThan(1100);
    const res = await http
      .get(`/api/v1/organizations/${orgId}/audit-logs/export`)
      .set(auth())
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (text += d));
        r.on('end', () => cb(null, text));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsv(res.body as string);
    expect(rows[0]).toEqual([
      'id',
      'timestamp',
      'actorId',
      'actorUsername',
      'resource',
      'resourceId',
      'resourceName',
      'operation',
      'description',
      'medium',
      'ip',
      'requestId',
      'metadata',
    ]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(list.map((e) => e.id));
    const formula = rows.find((r) => r[6].includes('calc'))!;
    expect(formula[6]).toBe(`'=cmd|"/c calc"!A0`);
    expect(JSON.parse(rows.find((r) => r[6] === 'Group 5, "quoted"')![12])).toMatchObject({ description: 'line one\nline two' });

    const filtered = parseCsv(
      (await http.get(`/api/v1/organizations/${orgId}/audit-logs/export`).query({ resource: 'User', operation: 'Modified' }).set(auth()).expect(200)).text,
    );
    expect(filtered.slice(1).map((r) => r[0])).toEqual((await allEntries(orgId, { resource: 'User', operation: 'Modified' })).map((e) => e.id));
    expect((await http.get(`/api/v1/organizations/${orgId}/audit-logs/export`).query({ resource: 'Planet' }).set(auth())).status).toBe(400);
  });

  it('entries never cross organizations', async () => {
    const other = randomUUID();
    const res = await logs(other); // an organization the caller is not a member of: the permission guard says 404
    expect([res.status, res.body.code]).toEqual([404, 'NOT_FOUND']);
    for (const e of await allEntries(orgId)) expect(e.organizationId).toBe(orgId);
  });

  it('no password, temporary password, token or hash reaches any stored entry', async () => {
    const mongo = await testMongo();
    try {
      const identityDb = mongo.db(testDatabaseName('identity'));
      const hashes = [
        ...(await identityDb.collection('passwords').find().toArray()).map((d) => String(d.hash)),
        ...(await identityDb.collection('api_tokens').find().toArray()).map((d) => String(d._id)),
        ...(await identityDb.collection('sessions').find().toArray()).map((d) => String(d._id)),
      ];
      expect(hashes.length).toBeGreaterThan(3);
      const audit = mongo.db(testDatabaseName('audit-log'));
      const stored = JSON.stringify([
        ...(await audit.collection('audit_entries').find().toArray()),
        ...(await audit.collection('audit_directory').find().toArray()),
      ]);
      expect(stored.length).toBeGreaterThan(10_000);
      for (const s of [...secrets, ...hashes]) expect(stored).not.toContain(s);
    } finally {
      await mongo.close();
    }
  });

  it('npm run audit:rebuild rebuilds the same entries, ids included', async () => {
    const before = await allEntries(orgId);
    const out = await new Promise<string>((ok, fail) => {
      const p = spawn('npm', ['run', '--silent', 'audit:rebuild'], {
        cwd: resolve(__dirname, '..'),
        env: { ...process.env, NATS_SUBJECT_PREFIX: testPrefix() },
      });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      // on failure, what the services logged as errors meanwhile (an INTERNAL reply carries no cause)
      const from = logLines.length;
      p.on('exit', (code) => (code === 0 ? ok(text) : fail(new Error(`exit ${code}: ${text}\nservice errors:\n${logLines.slice(from).join('')}`))));
    });
    expect(out).toMatch(/done: \d+ events .* entries, 0 dead-lettered/);
    expect(await allEntries(orgId)).toEqual(before);
  });
});
