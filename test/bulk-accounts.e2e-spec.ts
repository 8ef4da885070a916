import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NatsConnection } from 'nats';
import type { MongoClient } from 'mongodb';
import { MembershipSubjects, stableUuid, temporaryPasswordSeed, type CommandMeta, type CreateAccountsReply } from '@app/contracts';
import { natsOutcome, testDatabaseName, testMongo, testNats } from '@app/testing';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/**
 * `POST …/accounts` with large batches (docs/identity.md "Account batches"): 500 accounts answer 201 within
 * seconds, all of them members that can log in; a caller that gives up and retries under the same
 * Idempotency-Key gets the same temporary passwords, and nothing is created twice.
 */
describe('account batches (POST /organizations/{org}/accounts)', () => {
  let system: RunningSystem;
  let mongo: MongoClient;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;
  const admin = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  let adminId = '';
  let org = '';

  beforeAll(async () => {
    system = await startSystem();
    mongo = await testMongo();
    nc = await testNats();
    http = request(system.baseUrl);
    adminId = (await http.get('/api/v1/me').set(admin).expect(200)).body.id;
    org = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Bulk Corp' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await nc?.close();
    await mongo?.close();
    // Closing right after 500 accounts used to wait ~14 minutes on the audit log: FerretDB hung its database on
    // an update of 500 directory records in one command (now at most 50 per command, docs/audit-log.md); a
    // service's consumers wait at most 5 s for the batch they are applying (docs/architecture.md, "Consumers").
    const started = Date.now();
    await system?.close();
    console.log(`services closed in ${Date.now() - started} ms`);
  }, 120_000);

  const sample = <T>(items: T[]): T[] => [...items.slice(0, 5), items[items.length - 1]];
  const accountsAt = (domain: string, n: number) => Array.from({ length: n }, (_, i) => ({ email: `user${i}@${domain}` }));

  /** identity's user.created events for emails of this domain */
  const createdEvents = async (domain: string): Promise<number> =>
    (await mongo.db(testDatabaseName('identity')).collection('event_commits').find({}).toArray())
      .flatMap((c) => c.events as Array<{ type: string; data: { email: string } }>)
      .filter((e) => e.type === 'user.created' && e.data.email.endsWith(`@${domain}`)).length;

  /**
   * Every account is a member: in the organization's stream (membership's record of who joined) and, for
   * a sample, for authorization too (a permission check on them answers, where a non-member is 404). The
   * people list is not asked: its projection needs minutes for 1,000 events on FerretDB (docs/identity.md
   * "Account batches").
   */
  async function expectMembers(created: Array<{ userId: string }>) {
    const commits = await mongo
      .db(testDatabaseName('membership'))
      .collection('event_commits')
      .find({ streamId: `organization-${org}` })
      .toArray();
    const joined = new Set(
      commits
        .flatMap((c) => c.events as Array<{ type: string; data: { userId: string } }>)
        .filter((e) => e.type === 'organization.member-added')
        .map((e) => e.data.userId),
    );
    expect(created.filter((c) => !joined.has(c.userId))).toEqual([]);
    for (const c of sample(created))
      await eventually(
        async () =>
          (
            await http
              .post(`/api/v1/organizations/${org}/permissions/check`)
              .set(admin)
              .send({ userId: c.userId, permissions: ['organization.view'] })
          ).status === 200,
        30_000,
        `authorization to know ${c.userId} as a member`,
      );
  }

  /** the temporary password is right: a login with it is told to change it (a wrong one is INVALID_CREDENTIALS) */
  async function canLogIn(account: { username: string; temporaryPassword: string }) {
    const login = await http.post('/api/v1/auth/login').send({ login: account.username, password: account.temporaryPassword });
    expect({ status: login.status, code: login.body.code }).toEqual({ status: 403, code: 'PASSWORD_CHANGE_REQUIRED' });
  }
  /** …and changing it gives a session */
  const changePassword = (account: { username: string; temporaryPassword: string }) =>
    http
      .post('/api/v1/auth/password')
      .send({ login: account.username, currentPassword: account.temporaryPassword, newPassword: `correct horse ${account.username}` })
      .expect(200);

  /** Sends the command the gateway sends for POST accounts under `key` (the same id and password seed). */
  function sendGatewayCommand(key: string, accounts: Array<{ email: string }>, timeoutMs: number) {
    const subject = MembershipSubjects.createAccounts();
    const meta: CommandMeta = {
      commandId: stableUuid(`idempotency:${adminId}:${key}:${subject}:1`),
      actor: { id: adminId, username: 'admin' },
      correlationId: randomUUID(),
      medium: 'api',
      timestamp: new Date().toISOString(),
    };
    const body = { organizationId: org, accounts, passwordSeed: temporaryPasswordSeed(adminId, key) };
    return natsOutcome(nc, subject, body, { meta, timeoutMs });
  }

  it.each([
    ['while the first run is still going', 'gave-up-early.example.com', false],
    ['after the first run has finished', 'gave-up-late.example.com', true],
  ])(
    'a caller that gave up, retried under the same Idempotency-Key %s: the same accounts, usable passwords, every one a member, nothing twice',
    async (_when, domain, waitForFirst) => {
      const accounts = accountsAt(domain, 40);
      const key = `gave-up-${domain}`;
      // the first request's caller stops waiting at once (as a gateway whose request timed out)
      await sendGatewayCommand(key, accounts, 1).catch(() => undefined);
      if (waitForFirst) await eventually(async () => (await createdEvents(domain)) === 40, 60_000, 'the first run');
      else await new Promise((r) => setTimeout(r, 300));

      const res = await http.post(`/api/v1/organizations/${org}/accounts`).set(admin).set('Idempotency-Key', key).send({ accounts });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 201, code: undefined });
      const reply = res.body as CreateAccountsReply;
      expect(reply.existing).toEqual([]);
      expect(reply.created.map((c) => c.email)).toEqual(accounts.map((a) => a.email));

      await expectMembers(reply.created);
      for (const account of sample(reply.created)) await canLogIn(account);
      await changePassword(reply.created[0]);
      expect(await createdEvents(domain)).toBe(40);
      const again = await http.post(`/api/v1/organizations/${org}/accounts`).set(admin).set('Idempotency-Key', key).send({ accounts }).expect(201);
      expect(again.body).toEqual(reply);
    },
    180_000,
  );

  it('500 accounts in one request: 201 within seconds, every account a member that can log in; a retry returns the same passwords', async () => {
    const accounts = accountsAt('bulk500.example.com', 500);
    const started = Date.now();
    const res = await http.post(`/api/v1/organizations/${org}/accounts`).set(admin).set('Idempotency-Key', 'bulk-500').send({ accounts });
    const ms = Date.now() - started;
    console.log(`POST accounts with 500 accounts: ${res.status} in ${ms} ms`);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 201, code: undefined });
    expect(ms).toBeLessThan(20_000);
    const reply = res.body as CreateAccountsReply;
    expect(reply.existing).toEqual([]);
    expect(reply.created.map((c) => c.email)).toEqual(accounts.map((a) => a.email));
    expect(new Set(reply.created.map((c) => c.username)).size).toBe(500);
    expect(new Set(reply.created.map((c) => c.temporaryPassword)).size).toBe(500);

    const again = await http.post(`/api/v1/organizations/${org}/accounts`).set(admin).set('Idempotency-Key', 'bulk-500').send({ accounts }).expect(201);
    expect(again.body).toEqual(reply);

    await expectMembers(reply.created);
    for (const account of sample(reply.created)) await canLogIn(account);
    expect(await createdEvents('bulk500.example.com')).toBe(500);
  }, 180_000);
});
