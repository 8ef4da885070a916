import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { MongoClient } from 'mongodb';
import { builtInRoleId, MembershipSubjects, systemMeta } from '@app/contracts';
import { natsRequest, testDatabaseName, testMongo } from '@app/testing';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * Organizations, people, accounts, groups and projects through the gateway (API.md). Routes that need the
 * authorization service's answers (permission guard, owners, project.view checks) are tested here too.
 */
describe('membership: organizations, people, groups, projects (API.md)', () => {
  let system: RunningSystem;
  let mongo: MongoClient;
  let http: ReturnType<typeof request>;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const admin = auth(BOOTSTRAP_TOKEN);

  let orgA: { id: string; name: string; slug: string };
  let orgB: { id: string; name: string; slug: string };
  const users: Record<string, { userId: string; username: string; token: string; headers: Record<string, string> }> = {};
  let adminId = '';

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  };

  /** an account created by `org`, with its password changed to get a session */
  async function account(org: string, email: string, username: string) {
    const res = await http
      .post(`/api/v1/organizations/${org}/accounts`)
      .set(admin)
      .send({ accounts: [{ email, username }] })
      .expect(201);
    const created = res.body.created[0];
    const session = await http
      .post('/api/v1/auth/password')
      .send({ login: username, currentPassword: created.temporaryPassword, newPassword: `correct horse battery ${username}` })
      .expect(200);
    users[username] = { userId: created.userId, username, token: session.body.token, headers: auth(session.body.token) };
    return users[username];
  }

  const people = async (org: string, query = '', as = admin) => {
    const res = await http.get(`/api/v1/organizations/${org}/people${query}`).set(as);
    expect({ status: res.status, body: res.status === 200 ? 'ok' : res.body }).toEqual({ status: 200, body: 'ok' });
    // membership's page forwarded as it was sent: the same JSON answer as any other route's
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return res.body;
  };

  beforeAll(async () => {
    system = await startSystem({ BOOTSTRAP_ORG_NAME: 'Home Base' });
    mongo = await testMongo();
    http = request(system.baseUrl);
    adminId = (await http.get('/api/v1/me').set(admin).expect(200)).body.id;
  });
  afterAll(async () => {
    await mongo?.close();
    await system?.close();
  });

  describe('organizations', () => {
    it('POST /organizations creates it with the caller as Owner; the slug defaults to the name', async () => {
      const res = await http.post('/api/v1/organizations').set(admin).send({ name: 'Acme Corp!' }).expect(201);
      expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Acme Corp!', slug: 'acme-corp' });
      orgA = res.body;
      orgB = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Beta', slug: 'beta-org' }).expect(201)).body;
      const list = await people(orgA.id);
      expect(list.items).toEqual([
        expect.objectContaining({ type: 'user', id: adminId, roles: [{ id: builtInRoleId(orgA.id, 'owner'), name: 'Owner', source: 'direct' }], groups: [] }),
      ]);
    });

    it('a taken slug is 409 SLUG_TAKEN', async () => {
      expectProblem(await http.post('/api/v1/organizations').set(admin).send({ name: 'Other', slug: 'acme-corp' }), 409, 'SLUG_TAKEN');
      expectProblem(await http.post('/api/v1/organizations').set(admin).send({ name: 'Acme Corp' }), 409, 'SLUG_TAKEN');
    });

    it.each([
      ['an unknown field', { name: 'X', plan: 'gold' }],
      ['no name', { slug: 'x-org' }],
      ['an empty name', { name: '' }],
      ['a too long name', { name: 'x'.repeat(101) }],
      ['a bad slug', { name: 'X', slug: 'Not A Slug' }],
      ['a number as name', { name: 42 }],
    ])('%s is 400 VALIDATION_FAILED and creates nothing', async (_what, body) => {
      const before = (await http.get('/api/v1/organizations').set(admin).expect(200)).body.items.length;
      expectProblem(await http.post('/api/v1/organizations').set(admin).send(body), 400, 'VALIDATION_FAILED');
      expect((await http.get('/api/v1/organizations').set(admin).expect(200)).body.items).toHaveLength(before);
    });

    it('GET /organizations lists the caller’s organizations; GET /organizations/{org} reads one', async () => {
      const mine = await http.get('/api/v1/organizations').set(admin).expect(200);
      expect(mine.body).toEqual({ items: expect.arrayContaining([orgA, orgB]), nextCursor: null });
      expect((await http.get(`/api/v1/organizations/${orgA.id}`).set(admin).expect(200)).body).toEqual(orgA);
      expectProblem(await http.get('/api/v1/organizations/00000000-0000-4000-8000-000000000000').set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.get('/api/v1/organizations/not-a-uuid').set(admin), 404, 'NOT_FOUND');
    });

    it('GET /organizations pages with limit and cursor, like every list (default 50, at most 500)', async () => {
      const all = (await http.get('/api/v1/organizations').set(admin).query({ limit: 500 }).expect(200)).body.items as Array<{ id: string }>;
      expect(all.length).toBeGreaterThanOrEqual(2);
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await http
          .get('/api/v1/organizations')
          .set(admin)
          .query(cursor ? { limit: 1, cursor } : { limit: 1 })
          .expect(200);
        expect(page.body.items).toHaveLength(1);
        ids.push(page.body.items[0].id);
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor && ids.length <= all.length);
      expect(ids).toEqual(all.map((o) => o.id));
      expectProblem(await http.get('/api/v1/organizations').set(admin).query({ limit: 501 }), 400, 'VALIDATION_FAILED');
      expectProblem(await http.get('/api/v1/organizations').set(admin).query({ cursor: 'bm90LWFuLW9yZw' }), 400, 'VALIDATION_FAILED');
    });

    it('BOOTSTRAP_ORG_NAME: the bootstrap admin is its Owner, joined via bootstrap in the creating commit', async () => {
      const home = (await http.get('/api/v1/organizations').set(admin).expect(200)).body.items.find((o: { slug: string }) => o.slug === 'home-base');
      expect(home).toEqual({ id: expect.any(String), name: 'Home Base', slug: 'home-base' });
      expect((await people(home.id)).items).toEqual([
        expect.objectContaining({ id: adminId, username: 'admin', roles: [{ id: builtInRoleId(home.id, 'owner'), name: 'Owner', source: 'direct' }] }),
      ]);
      const [commit] = await mongo
        .db(testDatabaseName('membership'))
        .collection('event_commits')
        .find({ streamId: `organization-${home.id}` })
        .toArray();
      expect(commit.events.map((e: { type: string; data: { via?: string } }) => [e.type, e.data.via])).toEqual([
        ['organization.created', undefined],
        ['organization.member-added', 'bootstrap'],
      ]);
    });

    it('without a token: 401', async () => {
      expectProblem(await http.get('/api/v1/organizations'), 401, 'UNAUTHENTICATED');
      expectProblem(await http.post('/api/v1/organizations').send({ name: 'Nope' }), 401, 'UNAUTHENTICATED');
    });
  });

  describe('accounts and people', () => {
    it('POST accounts creates managed accounts with temporary passwords; they join as Member', async () => {
      const tom = await account(orgA.id, 'tom@example.com', 'TomFern');
      await account(orgA.id, 'ann@example.com', 'ann');
      await account(orgA.id, 'bob@example.com', 'bob');
      await account(orgB.id, 'zed@example.com', 'zed');
      const list = await people(orgA.id, '?type=user');
      const tomItem = list.items.find((p: { id: string }) => p.id === tom.userId);
      expect(tomItem).toEqual({
        type: 'user',
        id: tom.userId,
        name: 'TomFern',
        username: 'TomFern',
        email: 'tom@example.com',
        roles: [{ id: builtInRoleId(orgA.id, 'member'), name: 'Member', source: 'direct' }],
        groups: [],
      });
      expect((await http.get('/api/v1/organizations').set(tom.headers).expect(200)).body.items).toEqual([orgA]);
    });

    it('POST accounts: an existing email is returned under existing and that user joins, without a password', async () => {
      const res = await http
        .post(`/api/v1/organizations/${orgB.id}/accounts`)
        .set(admin)
        .send({ accounts: [{ email: 'ANN@example.com' }] })
        .expect(201);
      expect(res.body).toEqual({ created: [], existing: [{ id: users.ann.userId, userId: users.ann.userId, email: 'ANN@example.com' }] });
      expect((await people(orgB.id, '?search=ann')).items.map((p: { id: string }) => p.id)).toEqual([users.ann.userId]);
    });

    it('POST accounts with a username taken in another case is 409 USERNAME_TAKEN and adds nobody', async () => {
      const before = (await people(orgA.id, '?type=user')).items.length;
      expectProblem(
        await http
          .post(`/api/v1/organizations/${orgA.id}/accounts`)
          .set(admin)
          .send({ accounts: [{ email: 'tf2@example.com', username: 'tomfern' }] }),
        409,
        'USERNAME_TAKEN',
      );
      expect((await people(orgA.id, '?type=user')).items).toHaveLength(before);
    });

    it.each([
      ['no accounts', { accounts: [] }],
      ['a bad email', { accounts: [{ email: 'not-an-email' }] }],
      ['an unknown field in an account', { accounts: [{ email: 'q@example.com', password: 'x' }] }],
      ['a malformed roleId', { accounts: [{ email: 'q@example.com' }], roleId: 'member' }],
    ])('POST accounts with %s is 400 VALIDATION_FAILED', async (_what, body) => {
      expectProblem(await http.post(`/api/v1/organizations/${orgA.id}/accounts`).set(admin).send(body), 400, 'VALIDATION_FAILED');
      expect((await people(orgA.id, '?search=q@')).items).toEqual([]);
    });

    it('POST people adds existing users by exact handle; wrong case is not found; members are reported', async () => {
      const res = await http
        .post(`/api/v1/organizations/${orgB.id}/people`)
        .set(admin)
        .send({ handles: ['tomfern', 'TomFern', 'ann', 'nobody-here', 'BOB@example.com'] })
        .expect(200);
      expect(res.body).toEqual({
        added: [
          { id: users.TomFern.userId, userId: users.TomFern.userId, username: 'TomFern' },
          { id: users.bob.userId, userId: users.bob.userId, username: 'bob' },
        ],
        notFound: ['tomfern', 'nobody-here'],
        alreadyMembers: ['ann'],
      });
      const again = await http
        .post(`/api/v1/organizations/${orgB.id}/people`)
        .set(admin)
        .send({ handles: ['TomFern'] })
        .expect(200);
      expect(again.body).toEqual({ added: [], notFound: [], alreadyMembers: ['TomFern'] });
    });

    it.each([
      ['no handles', { handles: [] }],
      ['a handle that is not a string', { handles: [1] }],
      ['an unknown field', { handles: ['ann'], role: 'x' }],
    ])('POST people with %s is 400 VALIDATION_FAILED', async (_what, body) => {
      expectProblem(await http.post(`/api/v1/organizations/${orgB.id}/people`).set(admin).send(body), 400, 'VALIDATION_FAILED');
    });

    it('GET people: search by prefix of username, name or email, type filter, pagination', async () => {
      expect((await people(orgA.id, '?search=tom')).items.map((p: { username: string }) => p.username)).toEqual(['TomFern']);
      expect((await people(orgA.id, '?search=BOB@EX')).items.map((p: { username: string }) => p.username)).toEqual(['bob']);
      expect((await people(orgA.id, '?search=nobody')).items).toEqual([]);
      const first = await people(orgA.id, '?type=user&limit=3');
      expect(first.items).toHaveLength(3);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await people(orgA.id, `?type=user&limit=3&cursor=${first.nextCursor}`);
      expect(second).toEqual({ items: [expect.objectContaining({ type: 'user' })], nextCursor: null });
      const all = [...first.items, ...second.items].map((p: { id: string }) => p.id);
      expect(new Set(all).size).toBe(4);
      expect(all).toEqual(expect.arrayContaining([adminId, users.TomFern.userId, users.ann.userId, users.bob.userId]));
    });

    it('GET people with a bad limit, type or cursor is 400', async () => {
      for (const q of ['?limit=501', '?limit=0', '?type=robot', '?roleId=owner', '?cursor=bad', '?extra=1'])
        expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/people${q}`).set(admin), 400, 'VALIDATION_FAILED');
    });
  });

  describe('groups', () => {
    let devs: { id: string };

    it('POST groups creates a group of members with the Member role', async () => {
      const res = await http
        .post(`/api/v1/organizations/${orgA.id}/groups`)
        .set(admin)
        .send({ name: 'Devs', description: 'developers', memberIds: [users.ann.userId, users.bob.userId] })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'Devs',
        description: 'developers',
        memberIds: [users.ann.userId, users.bob.userId],
        role: { id: builtInRoleId(orgA.id, 'member'), name: 'Member' },
      });
      devs = res.body;
      const list = await people(orgA.id, '?search=ann');
      expect(list.items[0]).toMatchObject({
        groups: [{ id: devs.id, name: 'Devs' }],
        roles: [
          { id: builtInRoleId(orgA.id, 'member'), name: 'Member', source: 'direct' },
          { id: builtInRoleId(orgA.id, 'member'), name: 'Member', source: 'group', groups: [{ id: devs.id, name: 'Devs' }] },
        ],
      });
      expect((await people(orgA.id, '?type=group')).items).toEqual([
        { type: 'group', id: devs.id, name: 'Devs', roles: [{ id: builtInRoleId(orgA.id, 'member'), name: 'Member', source: 'direct' }], groups: [] },
      ]);
    });

    it('members from outside the organization: 400 NOT_A_MEMBER; a taken name: 409 GROUP_NAME_TAKEN; bad bodies: 400', async () => {
      expectProblem(
        await http
          .post(`/api/v1/organizations/${orgA.id}/groups`)
          .set(admin)
          .send({ name: 'Outsiders', description: '', memberIds: [users.zed.userId] }),
        400,
        'NOT_A_MEMBER',
      );
      expectProblem(
        await http.post(`/api/v1/organizations/${orgA.id}/groups`).set(admin).send({ name: 'devs', description: '', memberIds: [] }),
        409,
        'GROUP_NAME_TAKEN',
      );
      expectProblem(
        await http
          .post(`/api/v1/organizations/${orgA.id}/groups`)
          .set(admin)
          .send({ name: 'X', memberIds: ['nope'] }),
        400,
        'VALIDATION_FAILED',
      );
      expect((await people(orgA.id, '?type=group')).items).toHaveLength(1);
    });

    it('GET groups lists and reads them; PATCH renames and changes members', async () => {
      const list = await http.get(`/api/v1/organizations/${orgA.id}/groups`).set(admin).expect(200);
      expect(list.body).toEqual({ items: [expect.objectContaining({ id: devs.id, name: 'Devs' })], nextCursor: null });
      const patched = await http
        .patch(`/api/v1/organizations/${orgA.id}/groups/${devs.id}`)
        .set(admin)
        .send({ name: 'Developers', addMemberIds: [users.TomFern.userId], removeMemberIds: [users.bob.userId] })
        .expect(200);
      expect(patched.body).toMatchObject({ name: 'Developers', memberIds: [users.ann.userId, users.TomFern.userId] });
      expect((await http.get(`/api/v1/organizations/${orgA.id}/groups/${devs.id}`).set(admin).expect(200)).body).toEqual(patched.body);
      expect((await people(orgA.id, '?search=bob')).items[0].groups).toEqual([]);
      expect((await people(orgA.id, '?search=tom')).items[0].groups).toEqual([{ id: devs.id, name: 'Developers' }]);
      expect((await people(orgA.id, '?search=develop')).items.map((p: { id: string }) => p.id)).toEqual([devs.id]);
      expectProblem(
        await http
          .patch(`/api/v1/organizations/${orgA.id}/groups/${devs.id}`)
          .set(admin)
          .send({ addMemberIds: [users.zed.userId] }),
        400,
        'NOT_A_MEMBER',
      );
      expectProblem(await http.patch(`/api/v1/organizations/${orgA.id}/groups/${devs.id}`).set(admin).send({ colour: 'red' }), 400, 'VALIDATION_FAILED');
    });

    it('a group role gives its members permissions, which leaving the group and deleting it take away at once', async () => {
      const admins = (
        await http
          .post(`/api/v1/organizations/${orgA.id}/groups`)
          .set(admin)
          .send({ name: 'Admins', description: '', memberIds: [users.bob.userId] })
          .expect(201)
      ).body;
      await http
        .put(`/api/v1/organizations/${orgA.id}/groups/${admins.id}/role`)
        .set(admin)
        .send({ roleId: builtInRoleId(orgA.id, 'admin') })
        .expect(200);
      expect((await people(orgA.id, '?search=bob')).items[0].roles).toContainEqual({
        id: builtInRoleId(orgA.id, 'admin'),
        name: 'Admin',
        source: 'group',
        groups: [{ id: admins.id, name: 'Admins' }],
      });
      await http.get(`/api/v1/organizations/${orgA.id}/people`).set(users.bob.headers).expect(200);
      await http
        .patch(`/api/v1/organizations/${orgA.id}/groups/${admins.id}`)
        .set(admin)
        .send({ removeMemberIds: [users.bob.userId] })
        .expect(200);
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/people`).set(users.bob.headers), 403, 'FORBIDDEN');
      await http
        .patch(`/api/v1/organizations/${orgA.id}/groups/${admins.id}`)
        .set(admin)
        .send({ addMemberIds: [users.bob.userId] })
        .expect(200);
      await http.get(`/api/v1/organizations/${orgA.id}/people`).set(users.bob.headers).expect(200);
      await http.delete(`/api/v1/organizations/${orgA.id}/groups/${admins.id}`).set(admin).expect(204);
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/people`).set(users.bob.headers), 403, 'FORBIDDEN');
    });

    it('DELETE groups removes the group from the list and from its members', async () => {
      const temp = (
        await http
          .post(`/api/v1/organizations/${orgA.id}/groups`)
          .set(admin)
          .send({ name: 'Temp', memberIds: [users.ann.userId] })
          .expect(201)
      ).body;
      await http.delete(`/api/v1/organizations/${orgA.id}/groups/${temp.id}`).set(admin).expect(204);
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/groups/${temp.id}`).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.delete(`/api/v1/organizations/${orgA.id}/groups/${temp.id}`).set(admin), 404, 'NOT_FOUND');
      expect((await people(orgA.id, '?search=ann')).items[0].groups).toEqual([{ id: devs.id, name: 'Developers' }]);
    });

    it('a Member without organization.groups.manage gets 403', async () => {
      expectProblem(await http.post(`/api/v1/organizations/${orgA.id}/groups`).set(users.TomFern.headers).send({ name: 'Mine' }), 403, 'FORBIDDEN');
    });
  });

  describe('projects and the owns-projects rule', () => {
    let api: { id: string; name: string; ownerId: string };

    it('POST projects: the creator owns it; GET reads it; the list shows what the caller can view', async () => {
      const res = await http.post(`/api/v1/organizations/${orgA.id}/projects`).set(users.ann.headers).send({ name: 'API' }).expect(201);
      expect(res.body).toEqual({ id: expect.any(String), name: 'API', ownerId: users.ann.userId });
      api = res.body;
      expect((await http.get(`/api/v1/organizations/${orgA.id}/projects/${api.id}`).set(users.ann.headers).expect(200)).body).toEqual(api);
      expect((await http.get(`/api/v1/organizations/${orgA.id}/projects`).set(users.ann.headers).expect(200)).body).toEqual({ items: [api], nextCursor: null });
      expect((await http.get(`/api/v1/organizations/${orgA.id}/projects`).set(users.TomFern.headers).expect(200)).body.items).toEqual([]);
      expectProblem(await http.post(`/api/v1/organizations/${orgA.id}/projects`).set(users.ann.headers).send({ name: '' }), 400, 'VALIDATION_FAILED');
    });

    it('PUT owner transfers to a member (200); a non-member is 400 NOT_A_MEMBER; a bad body 400; an unknown project 404', async () => {
      const p = (await http.post(`/api/v1/organizations/${orgA.id}/projects`).set(admin).send({ name: 'Transfers' }).expect(201)).body;
      expect(
        (await http.put(`/api/v1/organizations/${orgA.id}/projects/${p.id}/owner`).set(admin).send({ userId: users.bob.userId }).expect(200)).body,
      ).toEqual({
        ...p,
        ownerId: users.bob.userId,
      });
      expectProblem(
        await http.put(`/api/v1/organizations/${orgA.id}/projects/${p.id}/owner`).set(admin).send({ userId: users.zed.userId }),
        400,
        'NOT_A_MEMBER',
      );
      expectProblem(await http.put(`/api/v1/organizations/${orgA.id}/projects/${p.id}/owner`).set(admin).send({ userId: 'zed' }), 400, 'VALIDATION_FAILED');
      expectProblem(
        await http.put(`/api/v1/organizations/${orgA.id}/projects/${p.id}/owner`).set(admin).send({ userId: users.bob.userId, extra: 1 }),
        400,
        'VALIDATION_FAILED',
      );
      expect((await http.get(`/api/v1/organizations/${orgA.id}/projects/${p.id}`).set(admin).expect(200)).body.ownerId).toBe(users.bob.userId);
      expectProblem(
        await http.put(`/api/v1/organizations/${orgA.id}/projects/${randomUUID()}/owner`).set(admin).send({ userId: users.bob.userId }),
        404,
        'NOT_FOUND',
      );
      await http.put(`/api/v1/organizations/${orgA.id}/projects/${p.id}/owner`).set(admin).send({ userId: adminId }).expect(200);
    });

    it('removing a project owner is 409 OWNS_PROJECTS naming them; after a transfer the removal works and access is gone at once', async () => {
      const refused = await http.delete(`/api/v1/organizations/${orgA.id}/people/${users.ann.userId}`).set(admin);
      expectProblem(refused, 409, 'OWNS_PROJECTS');
      expect(refused.body.projects).toEqual([{ id: api.id, name: 'API' }]);

      expectProblem(
        await http.put(`/api/v1/organizations/${orgA.id}/projects/${api.id}/owner`).set(admin).send({ userId: users.zed.userId }),
        400,
        'NOT_A_MEMBER',
      );
      expectProblem(await http.put(`/api/v1/organizations/${orgA.id}/projects/${api.id}/owner`).set(admin).send({ userId: 'zed' }), 400, 'VALIDATION_FAILED');
      const moved = await http.put(`/api/v1/organizations/${orgA.id}/projects/${api.id}/owner`).set(admin).send({ userId: users.TomFern.userId }).expect(200);
      expect(moved.body).toEqual({ ...api, ownerId: users.TomFern.userId });

      await http.delete(`/api/v1/organizations/${orgA.id}/people/${users.ann.userId}`).set(admin).expect(204);
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}`).set(users.ann.headers), 404, 'NOT_FOUND');
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/people`).set(users.ann.headers), 404, 'NOT_FOUND');
      expect((await people(orgA.id, '?search=ann')).items).toEqual([]);
      expect(
        (
          await http
            .get(`/api/v1/organizations/${orgA.id}/groups/${(await people(orgA.id, '?type=group')).items[0].id}`)
            .set(admin)
            .expect(200)
        ).body.memberIds,
      ).not.toContain(users.ann.userId);
      expect((await http.get('/api/v1/organizations').set(users.ann.headers).expect(200)).body.items).toEqual([orgB]);
      expectProblem(await http.delete(`/api/v1/organizations/${orgA.id}/people/${users.ann.userId}`).set(admin), 404, 'NOT_FOUND');
    });

    it('an Owner cannot be removed: 409 OWNER_PROTECTED', async () => {
      expectProblem(await http.delete(`/api/v1/organizations/${orgA.id}/people/${adminId}`).set(admin), 409, 'OWNER_PROTECTED');
    });

    it('DELETE projects: 204, then 404', async () => {
      const tmp = (await http.post(`/api/v1/organizations/${orgA.id}/projects`).set(admin).send({ name: 'Tmp' }).expect(201)).body;
      await http.delete(`/api/v1/organizations/${orgA.id}/projects/${tmp.id}`).set(admin).expect(204);
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/projects/${tmp.id}`).set(admin), 404, 'NOT_FOUND');
    });
  });

  describe('password reset of managed accounts', () => {
    it('resets an account this organization created; others are 403 NOT_MANAGED_ACCOUNT; non-members 404', async () => {
      const res = await http.post(`/api/v1/organizations/${orgA.id}/people/${users.bob.userId}/password`).set(admin).expect(200);
      expect(res.body).toEqual({ temporaryPassword: expect.any(String), apiTokenRevoked: false });
      expectProblem(await http.get('/api/v1/me').set(users.bob.headers), 401, 'UNAUTHENTICATED');
      expectProblem(await http.post(`/api/v1/organizations/${orgA.id}/people/${adminId}/password`).set(admin), 403, 'NOT_MANAGED_ACCOUNT');
      // bob is a member of B too, but B did not create his account
      expectProblem(await http.post(`/api/v1/organizations/${orgB.id}/people/${users.bob.userId}/password`).set(admin), 403, 'NOT_MANAGED_ACCOUNT');
      expectProblem(await http.post(`/api/v1/organizations/${orgA.id}/people/${users.zed.userId}/password`).set(admin), 404, 'NOT_FOUND');
    });
  });

  describe('races and audit context', () => {
    it('concurrent creations of groups with one name: one 201, the others 409 GROUP_NAME_TAKEN', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          http
            .post(`/api/v1/organizations/${orgA.id}/groups`)
            .set(admin)
            .send({ name: 'Racers', memberIds: [users.bob.userId] }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
      expect((await people(orgA.id, '?type=group&search=racers')).items).toHaveLength(1);
    });

    it('concurrent invitations of the same people add each once', async () => {
      const org = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Race Org' }).expect(201)).body;
      const results = await Promise.all(
        [1, 2, 3].map(() =>
          http
            .post(`/api/v1/organizations/${org.id}/people`)
            .set(admin)
            .send({ handles: ['bob', 'TomFern'] })
            .expect(200),
        ),
      );
      expect(results.flatMap((r) => r.body.added.map((a: { username: string }) => a.username)).sort()).toEqual(['TomFern', 'bob']);
      expect((await people(org.id, '?type=user')).items).toHaveLength(3);
    });

    it('a role given when adding people must be assignable by the caller (authorization decides)', async () => {
      const org = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Roles Org' }).expect(201)).body;
      await http
        .post(`/api/v1/organizations/${org.id}/people`)
        .set(admin)
        .send({ handles: ['bob'], roleId: builtInRoleId(org.id, 'admin') })
        .expect(200);
      expect((await people(org.id, '?search=bob')).items[0].roles).toEqual([{ id: builtInRoleId(org.id, 'admin'), name: 'Admin', source: 'direct' }]);
      expectProblem(
        await http
          .post(`/api/v1/organizations/${org.id}/people`)
          .set(admin)
          .send({ handles: ['ann'], roleId: builtInRoleId(orgA.id, 'admin') }),
        404,
        'NOT_FOUND',
      );
    });

    it('a command retried with the same command id (a gateway that died mid-request) gets its first outcome', async () => {
      const { connect } = await import('nats');
      const nc = await connect({ servers: process.env.NATS_URL });
      try {
        const meta = { ...systemMeta(randomUUID()), actor: { id: adminId, username: 'admin' } };
        const send = () => natsRequest(nc, MembershipSubjects.createOrganization(), { name: 'Retried' }, { meta, timeoutMs: 10_000 });
        const first = await send();
        const again = await send();
        expect(first).toEqual({ id: expect.any(String), name: 'Retried', slug: 'retried' });
        expect(again).toEqual(first);
        expect((await http.get('/api/v1/organizations').set(admin).expect(200)).body.items.filter((o: { slug: string }) => o.slug === 'retried')).toHaveLength(
          1,
        );
      } finally {
        await nc.close();
      }
    });

    it('every event carries the actor, request id, IP and medium of the request', async () => {
      const res = await http
        .post('/api/v1/organizations')
        .set(admin)
        .set('X-Request-Id', 'membership-audit-1')
        .set('User-Agent', 'curl/8.5')
        .send({ name: 'Audited' })
        .expect(201);
      const commits = await mongo
        .db(testDatabaseName('membership'))
        .collection('event_commits')
        .find({ streamId: `organization-${res.body.id}` })
        .toArray();
      const events = commits.flatMap((c) => c.events);
      expect(events.map((e) => e.type)).toEqual(['organization.created', 'organization.member-added']);
      for (const e of events) expect(e.metadata).toMatchObject({ actor: { id: adminId }, requestId: 'membership-audit-1', ip: '127.0.0.1', medium: 'cli' });
    });
  });

  describe('tenant isolation', () => {
    let groupB: { id: string };
    let projectB: { id: string };

    it('B’s ids under A’s path are 404 everywhere, even for a member of both', async () => {
      const zed = users.zed;
      groupB = (await http.post(`/api/v1/organizations/${orgB.id}/groups`).set(admin).send({ name: 'B-team', memberIds: [] }).expect(201)).body;
      projectB = (await http.post(`/api/v1/organizations/${orgB.id}/projects`).set(admin).send({ name: 'B-project' }).expect(201)).body;
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/groups/${groupB.id}`).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.patch(`/api/v1/organizations/${orgA.id}/groups/${groupB.id}`).set(admin).send({ name: 'stolen' }), 404, 'NOT_FOUND');
      expectProblem(await http.delete(`/api/v1/organizations/${orgA.id}/groups/${groupB.id}`).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.get(`/api/v1/organizations/${orgA.id}/projects/${projectB.id}`).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.put(`/api/v1/organizations/${orgA.id}/projects/${projectB.id}/owner`).set(admin).send({ userId: adminId }), 404, 'NOT_FOUND');
      expectProblem(await http.delete(`/api/v1/organizations/${orgA.id}/projects/${projectB.id}`).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.delete(`/api/v1/organizations/${orgA.id}/people/${zed.userId}`).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.post(`/api/v1/organizations/${orgA.id}/people/${zed.userId}/password`).set(admin), 404, 'NOT_FOUND');
      expectProblem(
        await http
          .post(`/api/v1/organizations/${orgA.id}/groups`)
          .set(admin)
          .send({ name: 'Mixed', memberIds: [zed.userId] }),
        400,
        'NOT_A_MEMBER',
      );
      expect((await http.get(`/api/v1/organizations/${orgB.id}/groups/${groupB.id}`).set(admin).expect(200)).body.name).toBe('B-team');
      expect((await http.get(`/api/v1/organizations/${orgB.id}/projects/${projectB.id}`).set(admin).expect(200)).body.name).toBe('B-project');
    });

    it('a member of A only gets 404 for every path of B', async () => {
      const tom = await account(orgA.id, 'only-a@example.com', 'only-a');
      expectProblem(await http.get(`/api/v1/organizations/${orgB.id}`).set(tom.headers), 404, 'NOT_FOUND');
      for (const path of ['/people', '/groups', `/groups/${groupB.id}`, '/projects', `/projects/${projectB.id}`])
        expectProblem(await http.get(`/api/v1/organizations/${orgB.id}${path}`).set(tom.headers), 404, 'NOT_FOUND');
      expectProblem(await http.post(`/api/v1/organizations/${orgB.id}/projects`).set(tom.headers).send({ name: 'intruder' }), 404, 'NOT_FOUND');
      expectProblem(
        await http
          .post(`/api/v1/organizations/${orgB.id}/people`)
          .set(tom.headers)
          .send({ handles: ['ann'] }),
        404,
        'NOT_FOUND',
      );
      expectProblem(await http.delete(`/api/v1/organizations/${orgB.id}/groups/${groupB.id}`).set(tom.headers), 404, 'NOT_FOUND');
    });
  });
});
