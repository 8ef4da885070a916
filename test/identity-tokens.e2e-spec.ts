import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { MongoClient } from 'mongodb';
import type { AuditEntry } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/**
 * Personal API tokens under concurrency and after a password reset (docs/identity.md):
 * - concurrent `POST /me/token`: the reset whose event is last in the user's stream wins; its token works,
 *   every other returned token is refused, and `GET /me/token` describes the winner;
 * - a password reset by the managing organization revokes the personal API token (the account may be
 *   compromised) and says so in its response and in the audit log.
 */
describe('identity: personal API tokens (concurrent resets, password reset)', () => {
  let system: RunningSystem;
  let mongo: MongoClient;
  let http: ReturnType<typeof request>;
  let org = '';
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const admin = auth(BOOTSTRAP_TOKEN);

  interface TokenReply {
    token: string;
    tokenId: string;
    createdAt: string;
    current: boolean;
  }

  /** an account created by `org`, with its password changed: its session token */
  async function account(username: string): Promise<{ userId: string; session: string }> {
    const res = await http
      .post(`/api/v1/organizations/${org}/accounts`)
      .set(admin)
      .send({ accounts: [{ email: `${username}@example.com`, username }] })
      .expect(201);
    const created = res.body.created[0];
    const session = await http
      .post('/api/v1/auth/password')
      .send({ login: username, currentPassword: created.temporaryPassword, newPassword: `correct horse battery ${username}` })
      .expect(200);
    return { userId: created.userId, session: session.body.token };
  }

  /** token ids of the user's `user.api-token-reset` events, in stream order */
  async function resetTokenIds(userId: string): Promise<string[]> {
    const commits = await mongo
      .db(testDatabaseName('identity'))
      .collection('event_commits')
      .find({ streamId: `user-${userId}` })
      .sort({ fromVersion: 1 })
      .toArray();
    return commits
      .flatMap((c) => c.events as Array<{ type: string; data: { tokenId?: string } }>)
      .filter((e) => e.type === 'user.api-token-reset')
      .map((e) => e.data.tokenId!);
  }

  beforeAll(async () => {
    system = await startSystem();
    mongo = await testMongo();
    http = request(system.baseUrl);
    org = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Token Test Org' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await mongo?.close();
    await system?.close();
  });

  it.each([2, 10])(
    '%i concurrent POST /me/token: exactly one returned token works, the last one appended',
    async (n) => {
      const { userId, session } = await account(`racer${n}`);
      const replies = await Promise.all(Array.from({ length: n }, () => http.post('/api/v1/me/token').set(auth(session))));
      expect(replies.map((r) => r.status)).toEqual(Array(n).fill(200));
      const tokens = replies.map((r) => r.body as TokenReply);
      expect(new Set(tokens.map((t) => t.tokenId)).size).toBe(n);

      const statuses = await Promise.all(tokens.map(async (t) => (await http.get('/api/v1/me').set(auth(t.token))).status));
      const working = tokens.filter((_, i) => statuses[i] === 200);
      expect(working).toHaveLength(1);
      expect(statuses.filter((s) => s !== 200)).toEqual(Array(n - 1).fill(401));
      const [winner] = working;

      // the winner is the reset whose event is last in the user's stream, and its reply said it was current
      const ids = await resetTokenIds(userId);
      expect(ids.at(-1)).toBe(winner.tokenId);
      expect(ids.slice().sort()).toEqual(tokens.map((t) => t.tokenId).sort());
      expect(winner.current).toBe(true);

      const meta = await http.get('/api/v1/me/token').set(auth(winner.token)).expect(200);
      expect(meta.body).toMatchObject({ tokenId: winner.tokenId, createdAt: winner.createdAt });
      expect(meta.body.createdAt).not.toBeNull();
      // the session sees the same current token
      expect((await http.get('/api/v1/me/token').set(auth(session)).expect(200)).body.tokenId).toBe(winner.tokenId);

      // and the superseded credentials are gone from the store; only the winner's remains
      const stored = await mongo.db(testDatabaseName('identity')).collection('api_tokens').find({ userId }).toArray();
      expect(stored.map((d) => d.tokenId)).toEqual([winner.tokenId]);
    },
    60_000,
  );

  it('a password reset by the managing organization revokes the personal API token, and says so', async () => {
    const { userId, session } = await account('compromised');
    const token = (await http.post('/api/v1/me/token').set(auth(session)).expect(200)).body.token as string;
    await http.get('/api/v1/me').set(auth(token)).expect(200);

    const requestId = `reset-${randomUUID()}`;
    const reset = await http.post(`/api/v1/organizations/${org}/people/${userId}/password`).set(admin).set('X-Request-Id', requestId).expect(200);
    expect(reset.body).toEqual({ temporaryPassword: expect.any(String), apiTokenRevoked: true });

    for (const old of [token, session]) expect((await http.get('/api/v1/me').set(auth(old))).status).toBe(401);
    const meta = await http.get('/api/v1/me/token').set(auth(BOOTSTRAP_TOKEN)).expect(200);
    expect(meta.body.createdAt).not.toBeNull(); // the admin's own token is untouched
    expect(await mongo.db(testDatabaseName('identity')).collection('api_tokens').countDocuments({ userId })).toBe(0);

    // after logging in with the temporary password (and changing it), the user sets a new token
    const relogin = await http
      .post('/api/v1/auth/password')
      .send({ login: 'compromised', currentPassword: reset.body.temporaryPassword, newPassword: 'a fresh passphrase for compromised' })
      .expect(200);
    expect((await http.get('/api/v1/me/token').set(auth(relogin.body.token)).expect(200)).body).toEqual({ tokenId: null, createdAt: null, lastUsedAt: null });
    const fresh = (await http.post('/api/v1/me/token').set(auth(relogin.body.token)).expect(200)).body.token as string;
    await http.get('/api/v1/me').set(auth(fresh)).expect(200);

    // the audit log of the organization says the token was revoked by that reset
    const entries = await eventually(
      async () => {
        const res = await http.get(`/api/v1/organizations/${org}/audit-logs`).query({ limit: 500 }).set(admin).expect(200);
        const mine = (res.body.items as AuditEntry[]).filter((e) => e.requestId === requestId);
        return mine.some((e) => /API token/.test(e.description)) ? mine : undefined;
      },
      10_000,
      'the audit entries of the reset',
    );
    const revoked = entries.find((e) => /API token/.test(e.description))!;
    expect(revoked).toMatchObject({ resource: 'User', resourceId: userId, operation: 'Modified', metadata: { reason: 'password-reset' } });
    expect(revoked.description).toMatch(/revoked the personal API token/);
  }, 60_000);

  it('a password reset of an account without an API token says that none was revoked', async () => {
    const { userId } = await account('tokenless');
    const reset = await http.post(`/api/v1/organizations/${org}/people/${userId}/password`).set(admin).expect(200);
    expect(reset.body).toEqual({ temporaryPassword: expect.any(String), apiTokenRevoked: false });
  }, 30_000);
});
