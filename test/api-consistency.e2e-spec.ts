import request from 'supertest';
import { builtInRoleId } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * "First run, operations and API polish": API consistency, through the real gateway (docs/api.md "Additions"):
 * organizations by slug, built-in roles by name, one field name per concept, project names unique per
 * organization, validation messages that name the actual problem.
 */
describe('API consistency (docs/api.md additions)', () => {
  let system: RunningSystem;
  let http: ReturnType<typeof request>;
  const api = (path: string) => `/api/v1${path}`;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const admin = auth(BOOTSTRAP_TOKEN);

  let org: { id: string; name: string; slug: string };
  let secret: { id: string; name: string; slug: string };
  let bob: { id: string; userId: string; username: string; headers: Record<string, string> };
  let carol: { id: string; userId: string };

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  };
  const membershipCommits = async () => (await testMongo()).db(testDatabaseName('membership')).collection('event_commits').countDocuments();

  beforeAll(async () => {
    system = await startSystem();
    http = request(system.baseUrl);
    org = (await http.post(api('/organizations')).set(admin).send({ name: 'Acme Consistency', slug: 'acme-consistency' }).expect(201)).body;
    secret = (await http.post(api('/organizations')).set(admin).send({ name: 'Secret Place' }).expect(201)).body;
    const created = (
      await http
        .post(api(`/organizations/${org.id}/accounts`))
        .set(admin)
        .send({ accounts: [{ email: 'bob@consistency.test', username: 'bob', name: 'Bob Builder' }, { email: 'carol@consistency.test' }] })
        .expect(201)
    ).body.created;
    const session = await http
      .post(api('/auth/password'))
      .send({ login: 'bob', currentPassword: created[0].temporaryPassword, newPassword: 'correct horse battery bob' })
      .expect(200);
    bob = { ...created[0], headers: auth(session.body.token) };
    carol = created[1];
  });
  afterAll(async () => {
    await system?.close();
  });

  describe('1. organizations addressable by slug', () => {
    it('a slug names the organization wherever {org} is in a path, the very next request after its creation', async () => {
      const fresh = (await http.post(api('/organizations')).set(admin).send({ name: 'Fresh Slug', slug: 'fresh-slug' }).expect(201)).body;
      expect((await http.get(api('/organizations/fresh-slug')).set(admin).expect(200)).body).toEqual(fresh);
      const bySlug = (
        await http
          .get(api(`/organizations/${org.slug}/people`))
          .set(admin)
          .expect(200)
      ).body;
      const byId = (
        await http
          .get(api(`/organizations/${org.id}/people`))
          .set(admin)
          .expect(200)
      ).body;
      expect(bySlug).toEqual(byId);
      expect(bySlug.items.length).toBeGreaterThan(0);
      // a write by slug acts on the organization of that id
      const group = (
        await http
          .post(api(`/organizations/${org.slug}/groups`))
          .set(admin)
          .send({ name: 'By Slug' })
          .expect(201)
      ).body;
      expect(
        (
          await http
            .get(api(`/organizations/${org.id}/groups/${group.id}`))
            .set(admin)
            .expect(200)
        ).body.name,
      ).toBe('By Slug');
      expect(
        (
          await http
            .get(api(`/organizations/${org.slug}/roles?scope=project`))
            .set(admin)
            .expect(200)
        ).body.items.length,
      ).toBe(3);
    });

    it('an unknown slug is 404 NOT_FOUND as an unknown id; a non-member gets 404 for a slug as for an id', async () => {
      expectProblem(await http.get(api('/organizations/no-such-org')).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.get(api('/organizations/no-such-org/people')).set(admin), 404, 'NOT_FOUND');
      expectProblem(await http.get(api(`/organizations/${secret.id}`)).set(bob.headers), 404, 'NOT_FOUND');
      expectProblem(await http.get(api(`/organizations/${secret.slug}`)).set(bob.headers), 404, 'NOT_FOUND');
      // the slug is known to the gateway now (the admin used it): still 404 for a non-member
      await http
        .get(api(`/organizations/${secret.slug}`))
        .set(admin)
        .expect(200);
      expectProblem(await http.get(api(`/organizations/${secret.slug}/people`)).set(bob.headers), 404, 'NOT_FOUND');
    });

    it('a slug of the form of a UUID is refused on create (a path segment of that form is an id)', async () => {
      const res = await http.post(api('/organizations')).set(admin).send({ name: 'Uuid Slug', slug: '123e4567-e89b-42d3-a456-426614174000' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('2. built-in roles addressable by name', () => {
    it('PUT people/{id}/role with "Admin" gives the organization Admin; case-sensitive; a project role name is ROLE_SCOPE_MISMATCH', async () => {
      const res = await http
        .put(api(`/organizations/${org.slug}/people/${carol.userId}/role`))
        .set(admin)
        .send({ roleId: 'Admin' })
        .expect(200);
      expect(res.body.role).toEqual({ id: builtInRoleId(org.id, 'admin'), name: 'Admin' });
      expectProblem(
        await http
          .put(api(`/organizations/${org.id}/people/${carol.userId}/role`))
          .set(admin)
          .send({ roleId: 'admin' }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await http
          .put(api(`/organizations/${org.id}/people/${carol.userId}/role`))
          .set(admin)
          .send({ roleId: 'Contributor' }),
        400,
        'ROLE_SCOPE_MISMATCH',
      );
      await http
        .put(api(`/organizations/${org.id}/people/${carol.userId}/role`))
        .set(admin)
        .send({ roleId: 'Member' })
        .expect(200);
      const people = (
        await http
          .get(api(`/organizations/${org.id}/people?roleId=Member&type=user`))
          .set(admin)
          .expect(200)
      ).body.items;
      expect(people.map((p: { id: string }) => p.id)).toContain(carol.userId);
    });

    it('POST people and POST accounts take a role name; a group role and a project binding too, by the scope of the endpoint', async () => {
      await http.post(api('/organizations')).set(bob.headers).send({ name: 'Bob Own', slug: 'bob-own' }).expect(201);
      const added = (
        await http
          .post(api('/organizations/bob-own/people'))
          .set(bob.headers)
          .send({ handles: ['carol'], roleId: 'Admin' })
          .expect(200)
      ).body;
      expect(added.added).toHaveLength(1);
      const own = (await http.get(api('/organizations/bob-own')).set(bob.headers).expect(200)).body;
      const carolThere = (await http.get(api(`/organizations/bob-own/people?search=carol`)).set(bob.headers).expect(200)).body.items[0];
      expect(carolThere.roles).toEqual([{ id: builtInRoleId(own.id, 'admin'), name: 'Admin', source: 'direct' }]);

      const accounts = (
        await http
          .post(api(`/organizations/${org.slug}/accounts`))
          .set(admin)
          .send({ accounts: [{ email: 'dave@consistency.test' }], roleId: 'Admin' })
          .expect(201)
      ).body;
      const dave = (
        await http
          .get(api(`/organizations/${org.id}/people?search=dave`))
          .set(admin)
          .expect(200)
      ).body.items[0];
      expect(dave.id).toBe(accounts.created[0].userId);
      expect(dave.roles).toEqual([{ id: builtInRoleId(org.id, 'admin'), name: 'Admin', source: 'direct' }]);

      const group = (
        await http
          .post(api(`/organizations/${org.id}/groups`))
          .set(admin)
          .send({ name: 'Role Named' })
          .expect(201)
      ).body;
      const groupRole = (
        await http
          .put(api(`/organizations/${org.id}/groups/${group.id}/role`))
          .set(admin)
          .send({ roleId: 'Admin' })
          .expect(200)
      ).body;
      expect(groupRole.role.id).toBe(builtInRoleId(org.id, 'admin'));

      const project = (
        await http
          .post(api(`/organizations/${org.slug}/projects`))
          .set(admin)
          .send({ name: 'Bindings' })
          .expect(201)
      ).body;
      const binding = (
        await http
          .put(api(`/organizations/${org.slug}/projects/${project.id}/members/${bob.userId}/role`))
          .set(admin)
          .send({ roleId: 'Admin', subjectType: 'user' })
          .expect(200)
      ).body;
      expect(binding.role).toEqual({ id: builtInRoleId(org.id, 'project-admin'), name: 'Admin' });
      const reader = (
        await http
          .put(api(`/organizations/${org.id}/projects/${project.id}/members/${group.id}/role`))
          .set(admin)
          .send({ roleId: 'Reader', subjectType: 'group' })
          .expect(200)
      ).body;
      expect(reader.role).toEqual({ id: builtInRoleId(org.id, 'project-reader'), name: 'Reader' });
      expectProblem(
        await http
          .put(api(`/organizations/${org.id}/projects/${project.id}/members/${bob.userId}/role`))
          .set(admin)
          .send({ roleId: 'Owner', subjectType: 'user' }),
        400,
        'ROLE_SCOPE_MISMATCH',
      );
    });
  });

  describe('3. one field name per concept', () => {
    it('created and existing accounts, and added people, carry id next to userId', async () => {
      const res = (
        await http
          .post(api(`/organizations/${org.id}/accounts`))
          .set(admin)
          .send({ accounts: [{ email: 'erin@consistency.test' }, { email: 'bob@consistency.test' }] })
          .expect(201)
      ).body;
      expect(res.created).toEqual([expect.objectContaining({ id: res.created[0].userId, email: 'erin@consistency.test' })]);
      expect(res.existing).toEqual([{ id: bob.userId, userId: bob.userId, email: 'bob@consistency.test' }]);
      const added = (
        await http
          .post(api(`/organizations/${secret.id}/people`))
          .set(admin)
          .send({ handles: ['bob'] })
          .expect(200)
      ).body;
      expect(added.added).toEqual([{ id: bob.userId, userId: bob.userId, username: 'bob' }]);
    });

    it('project members say username where name is the username; people keep name as the display name', async () => {
      const project = (
        await http
          .post(api(`/organizations/${org.id}/projects`))
          .set(admin)
          .send({ name: 'Members' })
          .expect(201)
      ).body;
      await http
        .put(api(`/organizations/${org.id}/projects/${project.id}/members/${bob.userId}/role`))
        .set(admin)
        .send({ roleId: 'Contributor', subjectType: 'user' })
        .expect(200);
      const members = (
        await http
          .get(api(`/organizations/${org.id}/projects/${project.id}/members`))
          .set(admin)
          .expect(200)
      ).body.items;
      const bobThere = members.find((m: { id: string }) => m.id === bob.userId);
      expect(bobThere).toMatchObject({ type: 'user', name: 'bob', username: 'bob' });
      const person = (
        await http
          .get(api(`/organizations/${org.id}/people?search=bob`))
          .set(admin)
          .expect(200)
      ).body.items[0];
      expect(person).toMatchObject({ id: bob.userId, name: 'Bob Builder', username: 'bob' });
    });

    it('PATCH a group with memberIds sets the full member list; together with addMemberIds or removeMemberIds it is 400 and changes nothing', async () => {
      const group = (
        await http
          .post(api(`/organizations/${org.id}/groups`))
          .set(admin)
          .send({ name: 'Full List', memberIds: [bob.userId] })
          .expect(201)
      ).body;
      const replaced = (
        await http
          .patch(api(`/organizations/${org.id}/groups/${group.id}`))
          .set(admin)
          .send({ memberIds: [carol.userId] })
          .expect(200)
      ).body;
      expect(replaced.memberIds).toEqual([carol.userId]);
      const commits = await membershipCommits();
      const res = await http
        .patch(api(`/organizations/${org.id}/groups/${group.id}`))
        .set(admin)
        .send({ memberIds: [bob.userId], addMemberIds: [bob.userId] });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([{ field: 'memberIds', message: expect.stringMatching(/cannot be combined with addMemberIds or removeMemberIds/) }]);
      expect(await membershipCommits()).toBe(commits);
      expect(
        (
          await http
            .get(api(`/organizations/${org.id}/groups/${group.id}`))
            .set(admin)
            .expect(200)
        ).body.memberIds,
      ).toEqual([carol.userId]);
      const emptied = (
        await http
          .patch(api(`/organizations/${org.id}/groups/${group.id}`))
          .set(admin)
          .send({ memberIds: [] })
          .expect(200)
      ).body;
      expect(emptied.memberIds).toEqual([]);
    });
  });

  describe('4. project names unique per organization', () => {
    it('a second project named alike (case-insensitive) is 409 PROJECT_NAME_TAKEN; another organization may use the name', async () => {
      await http
        .post(api(`/organizations/${org.id}/projects`))
        .set(admin)
        .send({ name: 'Web App' })
        .expect(201);
      const commits = await membershipCommits();
      expectProblem(
        await http
          .post(api(`/organizations/${org.id}/projects`))
          .set(admin)
          .send({ name: 'web app' }),
        409,
        'PROJECT_NAME_TAKEN',
      );
      expect(await membershipCommits()).toBe(commits);
      await http
        .post(api(`/organizations/${secret.id}/projects`))
        .set(admin)
        .send({ name: 'Web App' })
        .expect(201);
      const doc = (await http.get('/docs-json').expect(200)).body;
      expect(doc.components.schemas.Problem.properties.code.enum).toContain('PROJECT_NAME_TAKEN');
      expect(JSON.stringify(doc.paths['/api/v1/organizations/{org}/projects'].post.responses['409'])).toMatch(/PROJECT_NAME_TAKEN/);
    });
  });

  describe('5. validation messages name the actual problem', () => {
    const createRole = (body: object) =>
      http
        .post(api(`/organizations/${org.id}/roles`))
        .set(admin)
        .send(body);
    const errorsOf = (res: request.Response) => {
      expectProblem(res, 400, 'VALIDATION_FAILED');
      return res.body.errors;
    };

    it('missing, wrong type, too long and too short each say so', async () => {
      const role = { name: 'Release Manager', description: 'Ships releases', scope: 'organization', permissions: [] };
      expect(errorsOf(await createRole({ ...role, description: undefined }))).toEqual([{ field: 'description', message: 'description is required' }]);
      expect(errorsOf(await createRole({ ...role, description: 12 }))).toEqual([
        { field: 'description', message: 'description must be a string, not a number' },
      ]);
      expect(errorsOf(await createRole({ ...role, description: 'x'.repeat(1001) }))).toEqual([
        { field: 'description', message: 'description must be at most 1000 characters (it has 1001)' },
      ]);
      expect(errorsOf(await createRole({ ...role, name: '  ' }))).toEqual([{ field: 'name', message: 'name must not be empty' }]);
      expect(
        errorsOf(
          await http
            .put(api(`/organizations/${org.id}/people/${carol.userId}/role`))
            .set(admin)
            .send({}),
        ),
      ).toEqual([{ field: 'roleId', message: 'roleId is required' }]);
      expect(
        errorsOf(
          await http
            .post(api(`/organizations/${org.id}/accounts`))
            .set(admin)
            .send({ accounts: [{ username: 'x' }] }),
        ),
      ).toEqual(
        expect.arrayContaining([
          { field: 'accounts.0.email', message: 'email is required' },
          { field: 'accounts.0.username', message: 'username must be at least 2 characters (it has 1)' },
        ]),
      );
    });

    it('a message that names an API path names it with /api/v1', async () => {
      const created = (
        await http
          .post(api(`/organizations/${org.id}/accounts`))
          .set(admin)
          .send({ accounts: [{ email: 'frank@consistency.test' }] })
          .expect(201)
      ).body.created[0];
      const res = await http.post(api('/auth/login')).send({ login: created.username, password: created.temporaryPassword });
      expectProblem(res, 403, 'PASSWORD_CHANGE_REQUIRED');
      expect(res.body.detail).toContain('POST /api/v1/auth/password');
      const check = await http
        .post(api(`/organizations/${org.id}/permissions/check`))
        .set(admin)
        .send({ permissions: ['no.such'] });
      expect(JSON.stringify(errorsOf(check))).toContain('GET /api/v1/permissions');
    });
  });
});
