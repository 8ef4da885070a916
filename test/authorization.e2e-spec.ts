import request from 'supertest';
import { builtInRoleId, ORGANIZATION_PERMISSIONS, PROJECT_PERMISSIONS } from '@app/contracts';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * Roles and permissions through the gateway (API.md "Roles and permissions", the role endpoints of people,
 * groups and projects, RBAC.md rules) and the permission guard: 404 for non-members, 403 naming the permission.
 */
describe('authorization: roles, bindings, checks, enforcement (API.md, RBAC.md)', () => {
  let system: RunningSystem;
  let http: ReturnType<typeof request>;
  const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const owner = auth(BOOTSTRAP_TOKEN);
  let ownerId = '';
  let org = '';
  let otherOrg = '';
  type User = { userId: string; username: string; headers: Record<string, string> };
  let admin: User;
  let member: User;
  let outsider: User;
  let projectId = '';
  let otherProjectId = '';
  let groupId = '';
  const role = (key: Parameters<typeof builtInRoleId>[1]) => builtInRoleId(org, key);
  const api = (path: string) => `/api/v1${path}`;

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  };

  /** an account created by `inOrg` (Member), with a session */
  async function account(inOrg: string, username: string): Promise<User> {
    const res = await http
      .post(api(`/organizations/${inOrg}/accounts`))
      .set(owner)
      .send({ accounts: [{ email: `${username}@example.com`, username }] })
      .expect(201);
    const created = res.body.created[0];
    const session = await http
      .post(api('/auth/password'))
      .send({ login: username, currentPassword: created.temporaryPassword, newPassword: `correct horse battery ${username}` })
      .expect(200);
    return { userId: created.userId, username, headers: auth(session.body.token) };
  }

  beforeAll(async () => {
    system = await startSystem();
    http = request(system.baseUrl);
    ownerId = (await http.get(api('/me')).set(owner).expect(200)).body.id;
    org = (await http.post(api('/organizations')).set(owner).send({ name: 'Authz Org' }).expect(201)).body.id;
    otherOrg = (await http.post(api('/organizations')).set(owner).send({ name: 'Other Org' }).expect(201)).body.id;
    admin = await account(org, 'ada');
    member = await account(org, 'mel');
    outsider = await account(otherOrg, 'otto');
    await http
      .put(api(`/organizations/${org}/people/${admin.userId}/role`))
      .set(owner)
      .send({ roleId: role('admin') })
      .expect(200);
    projectId = (
      await http
        .post(api(`/organizations/${org}/projects`))
        .set(owner)
        .send({ name: 'api' })
        .expect(201)
    ).body.id;
    otherProjectId = (
      await http
        .post(api(`/organizations/${otherOrg}/projects`))
        .set(owner)
        .send({ name: 'web' })
        .expect(201)
    ).body.id;
    groupId = (
      await http
        .post(api(`/organizations/${org}/groups`))
        .set(owner)
        .send({ name: 'Devs', description: 'developers', memberIds: [member.userId] })
        .expect(201)
    ).body.id;
  });
  afterAll(async () => {
    await system?.close();
  });

  describe('GET /permissions', () => {
    it('serves the catalogue with descriptions, filtered by scope', async () => {
      const all = (await http.get(api('/permissions')).set(member.headers).expect(200)).body;
      expect(all.items).toHaveLength(69);
      expect(all.items[0]).toEqual({ name: 'organization.view', scope: 'organization', description: expect.any(String) });
      const project = (await http.get(api('/permissions?scope=project')).set(member.headers).expect(200)).body.items;
      expect(project.map((p: { name: string }) => p.name)).toEqual(PROJECT_PERMISSIONS);
      expectProblem(await http.get(api('/permissions?scope=team')).set(member.headers), 400, 'VALIDATION_FAILED');
      expectProblem(await http.get(api('/permissions')), 401, 'UNAUTHENTICATED');
    });
  });

  describe('the permission guard', () => {
    it('a non-member gets 404 for every organization route, a project of another organization is 404, a malformed id is 404', async () => {
      expectProblem(await http.get(api(`/organizations/${org}/roles`)).set(outsider.headers), 404, 'NOT_FOUND');
      expectProblem(
        await http
          .post(api(`/organizations/${org}/permissions/check`))
          .set(outsider.headers)
          .send({ permissions: ['organization.view'] }),
        404,
        'NOT_FOUND',
      );
      expectProblem(await http.get(api(`/organizations/${org}/projects/${otherProjectId}/members`)).set(owner), 404, 'NOT_FOUND');
      expectProblem(await http.get(api('/organizations/not-a-uuid/roles')).set(owner), 404, 'NOT_FOUND');
      expectProblem(await http.get(api(`/organizations/${org}/projects/nope/members`)).set(owner), 404, 'NOT_FOUND');
    });

    it('a member without the permission gets 403 FORBIDDEN naming it', async () => {
      const res = await http.get(api(`/organizations/${org}/roles`)).set(member.headers);
      expectProblem(res, 403, 'FORBIDDEN');
      expect(res.body.detail).toContain('organization.custom_roles.view');
      const res2 = await http.get(api(`/organizations/${org}/projects/${projectId}/members`)).set(member.headers);
      expectProblem(res2, 403, 'FORBIDDEN');
      expect(res2.body.detail).toContain('project.access.view');
    });
  });

  describe('roles', () => {
    let customId = '';

    it('lists the six built-in roles exactly as RBAC.md (read-only), then custom ones', async () => {
      const res = await http
        .get(api(`/organizations/${org}/roles`))
        .set(admin.headers)
        .expect(200);
      const byId = Object.fromEntries(res.body.items.map((r: { id: string }) => [r.id, r]));
      expect(res.body.items.map((r: { name: string; scope: string }) => `${r.scope}:${r.name}`)).toEqual([
        'organization:Owner',
        'organization:Admin',
        'organization:Member',
        'project:Admin',
        'project:Contributor',
        'project:Reader',
      ]);
      expect(byId[role('owner')]).toMatchObject({ builtIn: true, permissions: ORGANIZATION_PERMISSIONS });
      expect(byId[role('admin')].permissions).toHaveLength(34);
      expect(byId[role('member')].permissions).toHaveLength(14);
      expect(byId[role('project-admin')].permissions).toEqual(PROJECT_PERMISSIONS);
      expect(byId[role('project-contributor')].permissions).toHaveLength(29);
      expect(byId[role('project-reader')].permissions).toHaveLength(11);
      const projectRoles = await http
        .get(api(`/organizations/${org}/roles?scope=project`))
        .set(admin.headers)
        .expect(200);
      expect(projectRoles.body.items).toHaveLength(3);
      expect(
        (
          await http
            .get(api(`/organizations/${org}/roles/${role('member')}`))
            .set(admin.headers)
            .expect(200)
        ).body.name,
      ).toBe('Member');
      expectProblem(await http.get(api(`/organizations/${org}/roles/${builtInRoleId(otherOrg, 'member')}`)).set(admin.headers), 404, 'NOT_FOUND');
    });

    it('POST creates a custom role with organization.view always included (201)', async () => {
      const res = await http
        .post(api(`/organizations/${org}/roles`))
        .set(owner)
        .send({ name: 'Auditor', description: 'reads the audit log', scope: 'organization', permissions: ['organization.audit_logs.view'] })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'Auditor',
        description: 'reads the audit log',
        scope: 'organization',
        permissions: ['organization.view', 'organization.audit_logs.view'],
        builtIn: false,
      });
      customId = res.body.id;
      const project = await http
        .post(api(`/organizations/${org}/roles`))
        .set(owner)
        .send({ name: 'Runner', description: '', scope: 'project', permissions: ['project.job.rerun'] })
        .expect(201);
      expect(project.body.permissions).toEqual(['project.view', 'project.job.rerun']);
    });

    it('400 ROLE_SCOPE_MISMATCH, 409 ROLE_NAME_TAKEN, 403 PRIVILEGE_ESCALATION, 403 for an Admin (no custom_roles.manage), 400 for bad bodies', async () => {
      const create = (body: object, as = owner) =>
        http
          .post(api(`/organizations/${org}/roles`))
          .set(as)
          .send({ description: '', scope: 'organization', permissions: [], ...body });
      expectProblem(await create({ name: 'X', permissions: ['project.view'] }), 400, 'ROLE_SCOPE_MISMATCH');
      expectProblem(await create({ name: 'X', permissions: ['organization.fly'] }), 400, 'ROLE_SCOPE_MISMATCH');
      expectProblem(await create({ name: 'auditor' }), 409, 'ROLE_NAME_TAKEN');
      const forbidden = await create({ name: 'X' }, admin.headers);
      expectProblem(forbidden, 403, 'FORBIDDEN');
      expect(forbidden.body.detail).toContain('organization.custom_roles.manage');
      expectProblem(await create({ name: 'X', color: 'red' }), 400, 'VALIDATION_FAILED');
      expectProblem(await create({ name: 'X', scope: 'team' }), 400, 'VALIDATION_FAILED');
      expectProblem(await create({ name: 'x'.repeat(101) }), 400, 'VALIDATION_FAILED');
      // a role manager who is not an Owner cannot create a role with what they lack
      const manager = await http
        .post(api(`/organizations/${org}/roles`))
        .set(owner)
        .send({ name: 'Role manager', description: '', scope: 'organization', permissions: ['organization.custom_roles.manage', 'organization.people.manage'] })
        .expect(201);
      const rm = await account(org, 'rita');
      await http
        .put(api(`/organizations/${org}/people/${rm.userId}/role`))
        .set(owner)
        .send({ roleId: manager.body.id })
        .expect(200);
      const escalation = await create({ name: 'Deleter', permissions: ['organization.delete'] }, rm.headers);
      expectProblem(escalation, 403, 'PRIVILEGE_ESCALATION');
      expect(escalation.body.detail).toContain('organization.delete');
      await create({ name: 'Viewer of roles', permissions: ['organization.custom_roles.manage'] }, rm.headers).expect(201);
      const names = (
        await http
          .get(api(`/organizations/${org}/roles`))
          .set(owner)
          .expect(200)
      ).body.items.map((r: { name: string }) => r.name);
      expect(names.filter((n: string) => n === 'X' || n === 'Deleter')).toEqual([]);
    });

    it('PATCH edits a custom role (permissions replace) and its holders change at once; built-ins are 409 ROLE_READ_ONLY', async () => {
      await http
        .put(api(`/organizations/${org}/people/${member.userId}/role`))
        .set(owner)
        .send({ roleId: customId })
        .expect(200);
      const check = () =>
        http
          .post(api(`/organizations/${org}/permissions/check`))
          .set(member.headers)
          .send({ permissions: ['organization.audit_logs.view', 'organization.okta.view'] })
          .expect(200);
      expect((await check()).body.allowed).toEqual({ 'organization.audit_logs.view': true, 'organization.okta.view': false });
      const res = await http
        .patch(api(`/organizations/${org}/roles/${customId}`))
        .set(owner)
        .send({ permissions: ['organization.okta.view'], description: 'okta' })
        .expect(200);
      expect(res.body).toMatchObject({ name: 'Auditor', description: 'okta', permissions: ['organization.view', 'organization.okta.view'] });
      expect((await check()).body.allowed).toEqual({ 'organization.audit_logs.view': false, 'organization.okta.view': true });
      expectProblem(
        await http
          .patch(api(`/organizations/${org}/roles/${role('member')}`))
          .set(owner)
          .send({ name: 'Members' }),
        409,
        'ROLE_READ_ONLY',
      );
      expectProblem(
        await http
          .patch(api(`/organizations/${org}/roles/${customId}`))
          .set(owner)
          .send({ name: 'Owner' }),
        409,
        'ROLE_NAME_TAKEN',
      );
      expectProblem(
        await http
          .patch(api(`/organizations/${org}/roles/${customId}`))
          .set(owner)
          .send({ scope: 'project' }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('DELETE: 409 ROLE_IN_USE while bound, 409 ROLE_READ_ONLY for built-ins, 204 once nobody holds it', async () => {
      expectProblem(await http.delete(api(`/organizations/${org}/roles/${customId}`)).set(owner), 409, 'ROLE_IN_USE');
      expectProblem(await http.delete(api(`/organizations/${org}/roles/${role('admin')}`)).set(owner), 409, 'ROLE_READ_ONLY');
      await http
        .put(api(`/organizations/${org}/people/${member.userId}/role`))
        .set(owner)
        .send({ roleId: role('member') })
        .expect(200);
      await http
        .delete(api(`/organizations/${org}/roles/${customId}`))
        .set(owner)
        .expect(204);
      expectProblem(await http.get(api(`/organizations/${org}/roles/${customId}`)).set(owner), 404, 'NOT_FOUND');
    });
  });

  describe('organization roles of people and groups', () => {
    it('PUT people/{userId}/role: Owner rules (change_owner, LAST_OWNER), scope, escalation, non-members, bad bodies', async () => {
      const put = (userId: string, roleId: string, as = owner) =>
        http
          .put(api(`/organizations/${org}/people/${userId}/role`))
          .set(as)
          .send({ roleId });
      const noOwner = await put(member.userId, role('owner'), admin.headers);
      expectProblem(noOwner, 403, 'FORBIDDEN');
      expect(noOwner.body.detail).toContain('organization.change_owner');
      expectProblem(await put(ownerId, role('member'), admin.headers), 403, 'FORBIDDEN');
      expectProblem(await put(ownerId, role('admin')), 409, 'LAST_OWNER');
      expectProblem(await put(member.userId, role('project-reader')), 400, 'ROLE_SCOPE_MISMATCH');
      expectProblem(await put(outsider.userId, role('member')), 404, 'NOT_FOUND');
      expectProblem(await put(member.userId, builtInRoleId(otherOrg, 'admin')), 404, 'NOT_FOUND');
      expectProblem(await put(member.userId, 'admin'), 400, 'VALIDATION_FAILED');
      expectProblem(
        await http
          .put(api(`/organizations/${org}/people/${member.userId}/role`))
          .set(owner)
          .send({ roleId: role('admin'), extra: 1 }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(await put(member.userId, role('admin'), member.headers), 403, 'FORBIDDEN');
      // an Admin can make someone Admin; a second Owner lets the first step down
      const res = await put(member.userId, role('admin'), admin.headers).expect(200);
      expect(res.body).toEqual({ subjectType: 'user', subjectId: member.userId, projectId: null, role: { id: role('admin'), name: 'Admin' } });
      await put(member.userId, role('member'), admin.headers).expect(200);
      await put(admin.userId, role('owner')).expect(200);
      await put(ownerId, role('admin'), admin.headers).expect(200);
      await put(ownerId, role('owner'), admin.headers).expect(200);
      await put(admin.userId, role('admin')).expect(200);
    });

    it('PRIVILEGE_ESCALATION: a people manager cannot bind a role with permissions they lack', async () => {
      const pm = (
        await http
          .post(api(`/organizations/${org}/roles`))
          .set(owner)
          .send({ name: 'People manager', description: '', scope: 'organization', permissions: ['organization.people.manage'] })
          .expect(201)
      ).body.id;
      const hr = await account(org, 'hank');
      await http
        .put(api(`/organizations/${org}/people/${hr.userId}/role`))
        .set(owner)
        .send({ roleId: pm })
        .expect(200);
      const res = await http
        .put(api(`/organizations/${org}/people/${member.userId}/role`))
        .set(hr.headers)
        .send({ roleId: role('admin') });
      expectProblem(res, 403, 'PRIVILEGE_ESCALATION');
      await http
        .put(api(`/organizations/${org}/people/${member.userId}/role`))
        .set(hr.headers)
        .send({ roleId: pm })
        .expect(200);
      await http
        .put(api(`/organizations/${org}/people/${member.userId}/role`))
        .set(owner)
        .send({ roleId: role('member') })
        .expect(200);
    });

    it('PUT groups/{groupId}/role gives the role to every member of the group', async () => {
      const before = await http
        .post(api(`/organizations/${org}/permissions/check`))
        .set(member.headers)
        .send({ permissions: ['organization.people.view'] })
        .expect(200);
      expect(before.body.allowed['organization.people.view']).toBe(false);
      const res = await http
        .put(api(`/organizations/${org}/groups/${groupId}/role`))
        .set(admin.headers)
        .send({ roleId: role('admin') })
        .expect(200);
      expect(res.body).toMatchObject({ subjectType: 'group', subjectId: groupId, role: { name: 'Admin' } });
      const after = await http
        .post(api(`/organizations/${org}/permissions/check`))
        .set(member.headers)
        .send({ permissions: ['organization.people.view'] })
        .expect(200);
      expect(after.body.allowed['organization.people.view']).toBe(true);
      const sources = await http
        .get(api(`/organizations/${org}/people/${member.userId}/permissions`))
        .set(member.headers)
        .expect(200);
      expect(sources.body.permissions.find((p: { name: string }) => p.name === 'organization.people.view').sources).toEqual([
        { roleId: role('admin'), roleName: 'Admin', via: 'group', groupId, groupName: 'Devs', scope: 'organization' },
      ]);
      expectProblem(
        await http
          .put(api(`/organizations/${org}/groups/${groupId}/role`))
          .set(admin.headers)
          .send({ roleId: role('owner') }),
        403,
        'FORBIDDEN',
      );
      await http
        .put(api(`/organizations/${org}/groups/${groupId}/role`))
        .set(admin.headers)
        .send({ roleId: role('member') })
        .expect(200);
      expectProblem(
        await http
          .put(api(`/organizations/${org}/groups/${outsider.userId}/role`))
          .set(admin.headers)
          .send({ roleId: role('member') }),
        404,
        'NOT_FOUND',
      );
    });
  });

  describe('project members', () => {
    it('GET lists users and groups with project roles, including those from organization roles (source: organization)', async () => {
      const res = await http
        .get(api(`/organizations/${org}/projects/${projectId}/members`))
        .set(admin.headers)
        .expect(200);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items).toEqual(
        expect.arrayContaining([
          {
            type: 'user',
            id: ownerId,
            name: expect.any(String),
            username: expect.any(String),
            roles: [
              { id: role('project-admin'), name: 'Admin', source: 'project' },
              { id: role('project-admin'), name: 'Admin', source: 'organization', organizationRole: { id: role('owner'), name: 'Owner' } },
            ],
          },
          {
            type: 'user',
            id: admin.userId,
            name: 'ada',
            username: 'ada',
            roles: [{ id: role('project-admin'), name: 'Admin', source: 'organization', organizationRole: { id: role('admin'), name: 'Admin' } }],
          },
        ]),
      );
      expect(res.body.items.find((i: { id: string }) => i.id === member.userId)).toBeUndefined();
    });

    it('PUT members/{subjectId}/role binds a project role to a user or group; DELETE takes it away', async () => {
      const view = () =>
        http
          .post(api(`/organizations/${org}/permissions/check`))
          .set(member.headers)
          .send({ projectId, permissions: ['project.view', 'project.job.stop'] })
          .expect(200);
      expect((await view()).body.allowed).toEqual({ 'project.view': false, 'project.job.stop': false });
      await http
        .put(api(`/organizations/${org}/projects/${projectId}/members/${groupId}/role`))
        .set(admin.headers)
        .send({ roleId: role('project-reader'), subjectType: 'group' })
        .expect(200);
      expect((await view()).body.allowed).toEqual({ 'project.view': true, 'project.job.stop': false });
      await http
        .put(api(`/organizations/${org}/projects/${projectId}/members/${member.userId}/role`))
        .set(admin.headers)
        .send({ roleId: role('project-contributor'), subjectType: 'user' })
        .expect(200);
      expect((await view()).body.allowed).toEqual({ 'project.view': true, 'project.job.stop': true });
      const members = (
        await http
          .get(api(`/organizations/${org}/projects/${projectId}/members`))
          .set(member.headers)
          .expect(200)
      ).body.items;
      expect(members).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'group', id: groupId, roles: [{ id: role('project-reader'), name: 'Reader', source: 'project' }] }),
        ]),
      );
      await http
        .delete(api(`/organizations/${org}/projects/${projectId}/members/${member.userId}`))
        .set(admin.headers)
        .expect(204);
      expect((await view()).body.allowed).toEqual({ 'project.view': true, 'project.job.stop': false });
      await http
        .delete(api(`/organizations/${org}/projects/${projectId}/members/${groupId}`))
        .set(admin.headers)
        .expect(204);
      expect((await view()).body.allowed).toEqual({ 'project.view': false, 'project.job.stop': false });
      expectProblem(await http.delete(api(`/organizations/${org}/projects/${projectId}/members/${groupId}`)).set(admin.headers), 404, 'NOT_FOUND');
    });

    it('rules: NOT_A_MEMBER for a subject outside the organization, ROLE_SCOPE_MISMATCH for an organization role, 403 without project.access.manage', async () => {
      const put = (subjectId: string, body: object, as = admin.headers) =>
        http
          .put(api(`/organizations/${org}/projects/${projectId}/members/${subjectId}/role`))
          .set(as)
          .send(body);
      expectProblem(await put(outsider.userId, { roleId: role('project-reader'), subjectType: 'user' }), 400, 'NOT_A_MEMBER');
      expectProblem(await put(member.userId, { roleId: role('member'), subjectType: 'user' }), 400, 'ROLE_SCOPE_MISMATCH');
      expectProblem(await put(member.userId, { roleId: role('project-reader'), subjectType: 'team' }), 400, 'VALIDATION_FAILED');
      const res = await put(member.userId, { roleId: role('project-reader'), subjectType: 'user' }, member.headers);
      expectProblem(res, 403, 'FORBIDDEN');
      expect(res.body.detail).toContain('project.access.manage');
    });
  });

  describe('checks', () => {
    it('POST permissions/check: own permissions; another user needs organization.people.view; unknown names are 400', async () => {
      const own = await http
        .post(api(`/organizations/${org}/permissions/check`))
        .set(member.headers)
        .send({ permissions: ['organization.view', 'organization.delete'] })
        .expect(200);
      expect(own.body).toEqual({ allowed: { 'organization.view': true, 'organization.delete': false } });
      const other = await http
        .post(api(`/organizations/${org}/permissions/check`))
        .set(member.headers)
        .send({ userId: ownerId, permissions: ['organization.view'] });
      expectProblem(other, 403, 'FORBIDDEN');
      expect(other.body.detail).toContain('organization.people.view');
      const byAdmin = await http
        .post(api(`/organizations/${org}/permissions/check`))
        .set(admin.headers)
        .send({ userId: ownerId, projectId, permissions: ['organization.delete', 'project.delete'] })
        .expect(200);
      expect(byAdmin.body.allowed).toEqual({ 'organization.delete': true, 'project.delete': true });
      expectProblem(
        await http
          .post(api(`/organizations/${org}/permissions/check`))
          .set(admin.headers)
          .send({ userId: outsider.userId, permissions: ['organization.view'] }),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await http
          .post(api(`/organizations/${org}/permissions/check`))
          .set(admin.headers)
          .send({ projectId: otherProjectId, permissions: ['project.view'] }),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await http
          .post(api(`/organizations/${org}/permissions/check`))
          .set(admin.headers)
          .send({ permissions: ['organization.fly'] }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await http
          .post(api(`/organizations/${org}/permissions/check`))
          .set(admin.headers)
          .send({ permissions: [] }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('GET people/{userId}/permissions: the user themself, or with organization.people.view; each permission with its sources', async () => {
      const own = await http
        .get(api(`/organizations/${org}/people/${member.userId}/permissions`))
        .set(member.headers)
        .expect(200);
      expect(own.body.permissions).toHaveLength(14);
      expect(own.body.permissions[0]).toEqual({
        name: 'organization.view',
        scope: 'organization',
        sources: expect.arrayContaining([{ roleId: role('member'), roleName: 'Member', via: 'direct', scope: 'organization' }]),
      });
      expectProblem(await http.get(api(`/organizations/${org}/people/${ownerId}/permissions`)).set(member.headers), 403, 'FORBIDDEN');
      const ofOwner = await http
        .get(api(`/organizations/${org}/people/${ownerId}/permissions?projectId=${projectId}`))
        .set(admin.headers)
        .expect(200);
      expect(ofOwner.body.permissions).toHaveLength(69);
      expect(ofOwner.body.permissions.find((p: { name: string }) => p.name === 'project.delete').sources).toEqual([
        { roleId: role('project-admin'), roleName: 'Admin', via: 'direct', scope: 'project' },
        { roleId: role('project-admin'), roleName: 'Admin', via: 'direct', scope: 'organization' },
      ]);
      expectProblem(await http.get(api(`/organizations/${org}/people/${outsider.userId}/permissions`)).set(admin.headers), 404, 'NOT_FOUND');
      expectProblem(
        await http.get(api(`/organizations/${org}/people/${ownerId}/permissions?projectId=${otherProjectId}`)).set(admin.headers),
        404,
        'NOT_FOUND',
      );
      expectProblem(await http.get(api(`/organizations/${org}/people/${ownerId}/permissions?projectId=x`)).set(admin.headers), 400, 'VALIDATION_FAILED');
    });
  });
});
