import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NatsConnection } from 'nats';
import { IdentitySubjects, type CreateAccountsReply, type FindUsersReply, type ResetPasswordReply } from '@app/contracts';
import { testDatabaseName, testMongo, testNats } from '@app/testing';
import { BOOTSTRAP_EMAIL, BOOTSTRAP_TOKEN, startSystem, type RunningSystem, natsQuery } from './support/system';
import { hasValidChecksum } from '../apps/identity/src/credentials/api-token';

describe('identity: accounts, login, profile (API.md)', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;
  const orgId = randomUUID();
  const otherOrgId = randomUUID();
  /** every secret this file sees; none may appear in a stored event */
  const secrets: string[] = [BOOTSTRAP_TOKEN];
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  let tom: CreateAccountsReply['created'][number];
  let tomPassword = 'correct horse battery staple';
  let tomSession = '';
  let adminToken = BOOTSTRAP_TOKEN;

  beforeAll(async () => {
    system = await startSystem();
    nc = await testNats();
    http = request(system.baseUrl);
    secrets.push(tomPassword);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code });
  };

  describe('accounts created by an organization (identity create-accounts, as membership will call it)', () => {
    it('creates several accounts at once with temporary passwords; usernames inferred and made unique; existing emails returned', async () => {
      const reply = await natsQuery<CreateAccountsReply>(nc, IdentitySubjects.createAccounts(), {
        organizationId: orgId,
        accounts: [
          { email: 'tom@example.com', name: 'Tom' },
          { email: 'tom@other.example', name: 'Other Tom' },
          { email: 'jane@example.com', username: 'JaneDoe' },
          { email: 'ADMIN@example.com' },
        ],
      });
      expect(reply.created.map((c) => [c.email, c.username])).toEqual([
        ['tom@example.com', 'tom'],
        ['tom@other.example', 'tom1'],
        ['jane@example.com', 'JaneDoe'],
      ]);
      for (const c of reply.created) {
        expect(c.userId).toMatch(/^[0-9a-f-]{36}$/);
        expect(c.temporaryPassword.length).toBeGreaterThanOrEqual(20);
        secrets.push(c.temporaryPassword);
      }
      expect(new Set(reply.created.map((c) => c.temporaryPassword)).size).toBe(3);
      const me = await http.get('/api/v1/me').set(bearer(BOOTSTRAP_TOKEN)).expect(200);
      expect(reply.existing).toEqual([{ userId: me.body.id, email: 'ADMIN@example.com', username: 'admin' }]); // the username is for membership (not in the HTTP reply)
      tom = reply.created[0];
    });

    it('an explicit username taken in another case is USERNAME_TAKEN and nothing is created', async () => {
      await expect(
        natsQuery(nc, IdentitySubjects.createAccounts(), {
          organizationId: orgId,
          accounts: [{ email: 'new1@example.com' }, { email: 'x@example.com', username: 'janedoe' }],
        }),
      ).rejects.toMatchObject({ code: 'USERNAME_TAKEN' });
      const found = await natsQuery<FindUsersReply>(nc, IdentitySubjects.findUsers(), { handles: ['new1@example.com'] });
      expect(found.notFound).toEqual(['new1@example.com']);
    });
  });

  describe('temporary password → forced change → login', () => {
    it('login with the temporary password is 403 PASSWORD_CHANGE_REQUIRED', async () => {
      const res = await http.post('/api/v1/auth/login').send({ login: 'tom', password: tom.temporaryPassword });
      expectProblem(res, 403, 'PASSWORD_CHANGE_REQUIRED');
    });

    it('a wrong password and an unknown login get the same 401 INVALID_CREDENTIALS', async () => {
      const wrong = await http.post('/api/v1/auth/login').send({ login: 'tom@example.com', password: 'not-the-password' });
      const unknown = await http.post('/api/v1/auth/login').send({ login: 'nobody@example.com', password: 'not-the-password' });
      expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
      expectProblem(unknown, 401, 'INVALID_CREDENTIALS');
      expect(wrong.body.detail).toBe(unknown.body.detail);
      const wrongChange = await http.post('/api/v1/auth/password').send({ login: 'tom', currentPassword: 'nope-nope-nope', newPassword: tomPassword });
      expectProblem(wrongChange, 401, 'INVALID_CREDENTIALS');
    });

    it.each([
      ['too short', 'short'],
      ['too long', 'x'.repeat(257)],
      ['the email', 'TOM@example.com'],
      ['the temporary password', '<temporary>'],
    ])('a new password that is %s is 400 WEAK_PASSWORD', async (_what, pw) => {
      const newPassword = pw === '<temporary>' ? tom.temporaryPassword : pw;
      const res = await http.post('/api/v1/auth/password').send({ login: 'tom', currentPassword: tom.temporaryPassword, newPassword });
      expectProblem(res, 400, 'WEAK_PASSWORD');
    });

    it('the username as password is WEAK_PASSWORD too', async () => {
      const created = await natsQuery<CreateAccountsReply>(nc, IdentitySubjects.createAccounts(), {
        organizationId: orgId,
        accounts: [{ email: 'longname@example.com', username: 'long-username-1' }],
      });
      secrets.push(created.created[0].temporaryPassword);
      const res = await http
        .post('/api/v1/auth/password')
        .send({ login: 'long-username-1', currentPassword: created.created[0].temporaryPassword, newPassword: 'Long-Username-1' });
      expectProblem(res, 400, 'WEAK_PASSWORD');
    });

    it('POST /auth/password sets the password, clears the temporary flag and returns a working session', async () => {
      const res = await http.post('/api/v1/auth/password').send({ login: 'tom', currentPassword: tom.temporaryPassword, newPassword: tomPassword }).expect(200);
      expect(res.body).toEqual({ token: expect.stringMatching(/^ppl_/), expiresAt: expect.any(String) });
      secrets.push(res.body.token);
      const me = await http.get('/api/v1/me').set(bearer(res.body.token)).expect(200);
      expect(me.body).toMatchObject({ id: tom.userId, username: 'tom', email: 'tom@example.com', name: 'Tom' });
      const old = await http.post('/api/v1/auth/login').send({ login: 'tom', password: tom.temporaryPassword });
      expectProblem(old, 401, 'INVALID_CREDENTIALS');
    });

    it('POST /auth/login with email or username (any case) returns a session, its expiry and the user', async () => {
      for (const login of ['tom', 'TOM@Example.com']) {
        const res = await http.post('/api/v1/auth/login').send({ login, password: tomPassword }).expect(200);
        expect(res.body).toEqual({
          token: expect.stringMatching(/^ppl_/),
          expiresAt: expect.any(String),
          user: { id: tom.userId, username: 'tom', name: 'Tom', email: 'tom@example.com', createdAt: expect.any(String) },
        });
        const hours = (Date.parse(res.body.expiresAt) - Date.now()) / 3_600_000;
        expect(hours).toBeGreaterThan(11.9);
        expect(hours).toBeLessThanOrEqual(12);
        secrets.push(res.body.token);
        tomSession = res.body.token;
      }
    });
  });

  describe('logout', () => {
    it('ends every session of the caller (204): each is 401 from then on; the API token and a new login go on', async () => {
      const other = (await http.post('/api/v1/auth/login').send({ login: 'tom', password: tomPassword }).expect(200)).body.token;
      secrets.push(other);
      await http.get('/api/v1/me').set(bearer(tomSession)).expect(200);
      await http.post('/api/v1/auth/logout').set(bearer(other)).expect(204);
      for (const s of [other, tomSession]) expectProblem(await http.get('/api/v1/me').set(bearer(s)), 401, 'UNAUTHENTICATED');
      await http.get('/api/v1/me').set(bearer(BOOTSTRAP_TOKEN)).expect(200);
      tomSession = (await http.post('/api/v1/auth/login').send({ login: 'tom', password: tomPassword }).expect(200)).body.token;
      secrets.push(tomSession);
      await http.get('/api/v1/me').set(bearer(tomSession)).expect(200);
    });

    it('needs a session: with an API token 403 FORBIDDEN, without a token 401', async () => {
      expectProblem(await http.post('/api/v1/auth/logout').set(bearer(BOOTSTRAP_TOKEN)), 403, 'FORBIDDEN');
      expectProblem(await http.post('/api/v1/auth/logout'), 401, 'UNAUTHENTICATED');
    });
  });

  describe('profile', () => {
    it('PATCH /me changes name and username; the profile is read back at once', async () => {
      const res = await http.patch('/api/v1/me').set(bearer(tomSession)).send({ name: 'Tom Fern', username: 'TomFern' }).expect(200);
      expect(res.body).toMatchObject({ id: tom.userId, name: 'Tom Fern', username: 'TomFern' });
      expect((await http.get('/api/v1/me').set(bearer(tomSession)).expect(200)).body).toEqual(res.body);
    });

    it("usernames are unique regardless of case: USERNAME_TAKEN; a change of one's own case is fine", async () => {
      expectProblem(await http.patch('/api/v1/me').set(bearer(BOOTSTRAP_TOKEN)).send({ username: 'tomfern' }), 409, 'USERNAME_TAKEN');
      expectProblem(await http.patch('/api/v1/me').set(bearer(BOOTSTRAP_TOKEN)).send({ username: 'JANEDOE' }), 409, 'USERNAME_TAKEN');
      await http.patch('/api/v1/me').set(bearer(tomSession)).send({ username: 'tomFern' }).expect(200);
      await http.patch('/api/v1/me').set(bearer(tomSession)).send({ username: 'TomFern' }).expect(200);
    });

    it('the old username is free again after a change', async () => {
      const reply = await natsQuery<CreateAccountsReply>(nc, IdentitySubjects.createAccounts(), {
        organizationId: orgId,
        accounts: [{ email: 'tom@third.example' }],
      });
      secrets.push(reply.created[0].temporaryPassword);
      expect(reply.created[0].username).toBe('tom');
    });

    it('a look-up by handle is exact-case: tomfern does not find TomFern; emails match regardless of case', async () => {
      const found = await natsQuery<FindUsersReply>(nc, IdentitySubjects.findUsers(), { handles: ['TomFern', 'tomfern', 'TOM@EXAMPLE.COM'] });
      expect(found.found.map((f) => [f.handle, f.userId])).toEqual([
        ['TomFern', tom.userId],
        ['TOM@EXAMPLE.COM', tom.userId],
      ]);
      expect(found.notFound).toEqual(['tomfern']);
    });

    it("PUT /me/email changes the email; a case variant of another user's email is 409 EMAIL_TAKEN", async () => {
      expectProblem(await http.put('/api/v1/me/email').set(bearer(tomSession)).send({ email: BOOTSTRAP_EMAIL.toUpperCase() }), 409, 'EMAIL_TAKEN');
      const res = await http.put('/api/v1/me/email').set(bearer(tomSession)).send({ email: 'tom.fern@example.com' }).expect(200);
      expect(res.body).toMatchObject({ id: tom.userId, email: 'tom.fern@example.com' });
      await http.post('/api/v1/auth/login').send({ login: 'Tom.Fern@example.com', password: tomPassword }).expect(200);
      expectProblem(await http.post('/api/v1/auth/login').send({ login: 'tom@example.com', password: tomPassword }), 401, 'INVALID_CREDENTIALS');
      // the old email is free again
      const reply = await natsQuery<CreateAccountsReply>(nc, IdentitySubjects.createAccounts(), {
        organizationId: orgId,
        accounts: [{ email: 'TOM@example.com' }],
      });
      expect(reply.created).toHaveLength(1);
      secrets.push(reply.created[0].temporaryPassword);
    });

    it('bad bodies are 400 VALIDATION_FAILED and change nothing', async () => {
      const before = (await http.get('/api/v1/me').set(bearer(tomSession)).expect(200)).body;
      const bad: Array<[string, string, unknown]> = [
        ['patch', '/api/v1/me', { name: 'X', isAdmin: true }],
        ['patch', '/api/v1/me', { username: 'has spaces' }],
        ['patch', '/api/v1/me', { username: '-dash-first' }],
        ['patch', '/api/v1/me', { username: 'x'.repeat(40) }],
        ['patch', '/api/v1/me', { name: 'n'.repeat(201) }],
        ['patch', '/api/v1/me', { name: 42 }],
        ['put', '/api/v1/me/email', { email: 'not-an-email' }],
        ['put', '/api/v1/me/email', { email: `${'e'.repeat(320)}@example.com` }],
        ['put', '/api/v1/me/email', { email: 'new@example.com', extra: 1 }],
        ['post', '/api/v1/auth/login', { login: 'tom' }],
        ['post', '/api/v1/auth/login', { login: 'tom', password: tomPassword, remember: true }],
        ['post', '/api/v1/auth/password', { login: 'tom', currentPassword: tomPassword, newPassword: 123 }],
      ];
      for (const [method, path, body] of bad) {
        const send = (http as unknown as Record<string, (p: string) => request.Test>)[method];
        const res = await send
          .call(http, path)
          .set(bearer(tomSession))
          .send(body as object);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: expect.any(String), message: expect.any(String) })]));
      }
      expect((await http.get('/api/v1/me').set(bearer(tomSession)).expect(200)).body).toEqual(before);
      await http.post('/api/v1/auth/login').send({ login: 'TomFern', password: tomPassword }).expect(200);
    });

    it('every route but login and password change needs a token: 401', async () => {
      for (const [method, path] of [
        ['get', '/api/v1/me'],
        ['patch', '/api/v1/me'],
        ['put', '/api/v1/me/email'],
        ['post', '/api/v1/me/token'],
        ['get', '/api/v1/me/token'],
      ]) {
        const res = await (http as unknown as Record<string, (p: string) => request.Test>)[method](path).send({});
        expectProblem(res, 401, 'UNAUTHENTICATED');
      }
    });
  });

  describe('personal API token', () => {
    it('POST /me/token returns a new ppt_ token (shown once); the old one is rejected right away', async () => {
      const res = await http.post('/api/v1/me/token').set(bearer(BOOTSTRAP_TOKEN)).expect(200);
      expect(res.body).toEqual({
        token: expect.stringMatching(/^ppt_[0-9a-f]{72}$/),
        tokenId: expect.any(String),
        createdAt: expect.any(String),
        current: true,
      });
      expect(hasValidChecksum(res.body.token)).toBe(true);
      adminToken = res.body.token;
      secrets.push(adminToken);
      expectProblem(await http.get('/api/v1/me').set(bearer(BOOTSTRAP_TOKEN)), 401, 'UNAUTHENTICATED');
      await http.get('/api/v1/me').set(bearer(adminToken)).expect(200);
    });

    it('a token with a broken checksum is refused', async () => {
      const forged = adminToken.slice(0, -1) + (adminToken.endsWith('0') ? '1' : '0');
      expectProblem(await http.get('/api/v1/me').set(bearer(forged)), 401, 'UNAUTHENTICATED');
    });

    it('GET /me/token gives createdAt and lastUsedAt, never the secret', async () => {
      const res = await http.get('/api/v1/me/token').set(bearer(adminToken)).expect(200);
      expect(res.body).toEqual({ tokenId: expect.any(String), createdAt: expect.any(String), lastUsedAt: expect.any(String) });
      expect(Date.now() - Date.parse(res.body.lastUsedAt)).toBeLessThan(60_000);
      expect(JSON.stringify(res.body)).not.toContain('ppt_');
      // a user who never had a token
      const none = await http.get('/api/v1/me/token').set(bearer(tomSession)).expect(200);
      expect(none.body).toEqual({ tokenId: null, createdAt: null, lastUsedAt: null });
    });

    it('a user logged in with a session can create their first API token', async () => {
      const res = await http.post('/api/v1/me/token').set(bearer(tomSession)).expect(200);
      secrets.push(res.body.token);
      const me = await http.get('/api/v1/me').set(bearer(res.body.token)).expect(200);
      expect(me.body.id).toBe(tom.userId);
    });
  });

  describe('password reset of a managed account (identity reset-password, as membership will call it)', () => {
    it('another organization, or an account no organization manages: NOT_MANAGED_ACCOUNT', async () => {
      await expect(natsQuery(nc, IdentitySubjects.resetPassword(), { organizationId: otherOrgId, userId: tom.userId })).rejects.toMatchObject({
        code: 'NOT_MANAGED_ACCOUNT',
      });
      const admin = (await http.get('/api/v1/me').set(bearer(adminToken)).expect(200)).body;
      await expect(natsQuery(nc, IdentitySubjects.resetPassword(), { organizationId: orgId, userId: admin.id })).rejects.toMatchObject({
        code: 'NOT_MANAGED_ACCOUNT',
      });
      await http.post('/api/v1/auth/login').send({ login: 'TomFern', password: tomPassword }).expect(200);
    });

    it('the managing organization resets it: every session ends at once, the old password stops working, a change is required', async () => {
      const second = (await http.post('/api/v1/auth/login').send({ login: 'TomFern', password: tomPassword }).expect(200)).body.token;
      secrets.push(second);
      const { temporaryPassword } = await natsQuery<ResetPasswordReply>(nc, IdentitySubjects.resetPassword(), { organizationId: orgId, userId: tom.userId });
      secrets.push(temporaryPassword);
      expect(temporaryPassword.length).toBeGreaterThanOrEqual(20);
      for (const s of [tomSession, second]) expectProblem(await http.get('/api/v1/me').set(bearer(s)), 401, 'UNAUTHENTICATED');
      expectProblem(await http.post('/api/v1/auth/login').send({ login: 'TomFern', password: tomPassword }), 401, 'INVALID_CREDENTIALS');
      expectProblem(await http.post('/api/v1/auth/login').send({ login: 'TomFern', password: temporaryPassword }), 403, 'PASSWORD_CHANGE_REQUIRED');
      tomPassword = 'a brand new passphrase';
      secrets.push(tomPassword);
      const res = await http.post('/api/v1/auth/password').send({ login: 'TomFern', currentPassword: temporaryPassword, newPassword: tomPassword }).expect(200);
      await http.get('/api/v1/me').set(bearer(res.body.token)).expect(200);
      await http.post('/api/v1/auth/login').send({ login: 'TomFern', password: tomPassword }).expect(200);
    });
  });

  describe('events', () => {
    it('the stored events say what happened, with the actor, and never carry a password, token or hash', async () => {
      const mongo = await testMongo();
      try {
        const commits = await mongo.db(testDatabaseName('identity')).collection('event_commits').find({}).toArray();
        const events = commits.flatMap((c) => c.events as Array<{ type: string; data: Record<string, unknown> }>);
        const types = new Set(events.map((e) => e.type));
        for (const t of [
          'user.created',
          'user.password-set',
          'user.sessions-ended',
          'user.username-changed',
          'user.screen-name-changed',
          'user.email-changed',
          'user.api-token-reset',
        ])
          expect(types).toContain(t);
        const stored = JSON.stringify(commits);
        const hashes = secrets.map((s) => createHash('sha256').update(s).digest('hex'));
        for (const value of [...secrets, ...hashes]) expect(stored).not.toContain(value);
        expect(stored).not.toMatch(/scrypt\$|ppt_|pps_|ppl_/);
      } finally {
        await mongo.close();
      }
    });
  });
});
