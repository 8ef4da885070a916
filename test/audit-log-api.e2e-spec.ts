import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { builtInRoleId, type AuditEntry } from '@app/contracts';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/**
 * Every write of API.md through the gateway shows up in the audit log of its organization once per thing
 * changed, with the right resource and operation, actor and request id; a member without
 * `organization.audit_logs.view` gets 403; entries never cross organizations.
 */
describe('audit log of every write of API.md', () => {
  let system: RunningSystem;
  let http: ReturnType<typeof request>;
  let adminId: string;
  let org: string;
  let otherOrg: string;
  const admin = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  let n = 0;
  /** a write with its own request id: returns the response and that id */
  const write = async (method: 'post' | 'put' | 'patch' | 'delete', path: string, body?: object, auth = admin) => {
    const requestId = `req-${++n}-${randomUUID().slice(0, 8)}`;
    let req = http[method](`/api/v1${path}`).set(auth).set('X-Request-Id', requestId);
    if (body) req = req.send(body);
    const res = await req;
    if (res.status >= 300) throw new Error(`${method.toUpperCase()} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return { res, requestId };
  };
  const entriesOf = async (orgId: string, query: Record<string, string> = {}): Promise<AuditEntry[]> => {
    const items: AuditEntry[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await http
        .get(`/api/v1/organizations/${orgId}/audit-logs`)
        .query({ ...query, limit: 500, ...(cursor ? { cursor } : {}) })
        .set(admin);
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  };
  /** the entries a request left in `orgId`, as [resource, operation, resourceName] */
  const left = async (requestId: string, orgId = org) =>
    (await entriesOf(orgId)).filter((e) => e.requestId === requestId).map((e) => [e.resource, e.operation, e.resourceName]);
  const expectEntries = async (requestId: string, expected: Array<[string, string, string | null]>, orgId = org) => {
    const got = await eventually(
      async () => {
        const l = await left(requestId, orgId);
        return l.length >= expected.length ? l : undefined;
      },
      5000,
      `entries of ${requestId}`,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; the log holds ${JSON.stringify((await entriesOf(orgId)).slice(0, 5))}`);
    });
    expect(got.sort()).toEqual([...expected].sort());
    for (const e of (await entriesOf(orgId)).filter((x) => x.requestId === requestId)) {
      expect(e.actor.id).toBe(adminId);
      expect(e.ip).toBe('127.0.0.1');
      expect(e.medium).toBe('api');
    }
  };

  beforeAll(async () => {
    system = await startSystem();
    http = request(system.baseUrl);
    adminId = (await http.get('/api/v1/me').set(admin).expect(200)).body.id;
  });
  afterAll(async () => {
    await system?.close();
  });

  it('organizations, people, accounts, roles of people, password resets', async () => {
    const created = await write('post', '/organizations', { name: 'Audited' });
    org = created.res.body.id;
    await expectEntries(created.requestId, [['Organization', 'Added', 'Audited']]);
    otherOrg = (await write('post', '/organizations', { name: 'Elsewhere' })).res.body.id;

    const accounts = await write('post', `/organizations/${org}/accounts`, {
      accounts: [{ email: 'a1@example.com' }, { email: 'a2@example.com' }, { email: 'a3@example.com' }],
    });
    await expectEntries(accounts.requestId, [
      ['User', 'Added', 'a1'],
      ['User', 'Added', 'a2'],
      ['User', 'Added', 'a3'],
    ]);
    const [a1, a2, a3] = accounts.res.body.created as Array<{ userId: string; username: string }>;

    const invited = await write('post', `/organizations/${otherOrg}/people`, { handles: ['a1', 'a2', 'nobody-here'] });
    await expectEntries(
      invited.requestId,
      [
        ['Member', 'Added', 'a1'],
        ['Member', 'Added', 'a2'],
      ],
      otherOrg,
    );

    const role = await write('put', `/organizations/${org}/people/${a1.userId}/role`, { roleId: builtInRoleId(org, 'admin') });
    await expectEntries(role.requestId, [['Member', 'Modified', 'a1']]);

    const reset = await write('post', `/organizations/${org}/people/${a2.userId}/password`);
    await expectEntries(reset.requestId, [['User', 'Modified', 'a2']]);
    expect(await left(reset.requestId, otherOrg)).toEqual([]); // a reset concerns the organization that did it

    const removed = await write('delete', `/organizations/${org}/people/${a3.userId}`);
    await expectEntries(removed.requestId, [['Member', 'Removed', 'a3']]);
  });

  it('groups, their members and roles', async () => {
    const users = await entriesOf(org, { resource: 'User', operation: 'Added' });
    const members = ['a1', 'a2'].map((name) => users.find((e) => e.resourceName === name)!.resourceId);
    const group = await write('post', `/organizations/${org}/groups`, { name: 'Ops', description: 'operators', memberIds: [members[0]] });
    await expectEntries(group.requestId, [['Group', 'Added', 'Ops']]);
    const groupId = group.res.body.id;
    const patched = await write('patch', `/organizations/${org}/groups/${groupId}`, {
      name: 'Operators',
      addMemberIds: [members[1]],
      removeMemberIds: [members[0]],
    });
    await expectEntries(patched.requestId, [
      ['Group', 'Modified', 'Operators'],
      ['Group', 'Modified', 'Operators'],
      ['Group', 'Modified', 'Operators'],
    ]);
    const role = await write('put', `/organizations/${org}/groups/${groupId}/role`, { roleId: builtInRoleId(org, 'admin') });
    await expectEntries(role.requestId, [['Group', 'Modified', 'Operators']]);
    const deleted = await write('delete', `/organizations/${org}/groups/${groupId}`);
    await expectEntries(deleted.requestId, [['Group', 'Removed', 'Operators']]);
  });

  it('custom roles', async () => {
    const created = await write('post', `/organizations/${org}/roles`, {
      name: 'Auditor',
      description: 'reads the log',
      scope: 'organization',
      permissions: ['organization.view', 'organization.audit_logs.view'],
    });
    await expectEntries(created.requestId, [['Role', 'Added', 'Auditor']]);
    const roleId = created.res.body.id;
    const changed = await write('patch', `/organizations/${org}/roles/${roleId}`, { name: 'Auditors' });
    await expectEntries(changed.requestId, [['Role', 'Modified', 'Auditors']]);
    const deleted = await write('delete', `/organizations/${org}/roles/${roleId}`);
    await expectEntries(deleted.requestId, [['Role', 'Removed', 'Auditors']]);
  });

  it('projects, their owner and members', async () => {
    const users = (await entriesOf(org, { resource: 'User', operation: 'Added' })).map((e) => ({ id: e.resourceId, name: e.resourceName }));
    const member = users.find((u) => u.name === 'a1')!;
    const created = await write('post', `/organizations/${org}/projects`, { name: 'Apollo' });
    await expectEntries(created.requestId, [['Project', 'Added', 'Apollo']]);
    const projectId = created.res.body.id;
    const bound = await write('put', `/organizations/${org}/projects/${projectId}/members/${member.id}/role`, {
      roleId: builtInRoleId(org, 'project-reader'),
      subjectType: 'user',
    });
    await expectEntries(bound.requestId, [['Project', 'Modified', 'Apollo']]);
    const owner = await write('put', `/organizations/${org}/projects/${projectId}/owner`, { userId: member.id });
    await expectEntries(owner.requestId, [['Project', 'Modified', 'Apollo']]);
    const unbound = await write('delete', `/organizations/${org}/projects/${projectId}/members/${member.id}`);
    await expectEntries(unbound.requestId, [['Project', 'Modified', 'Apollo']]);
    const deleted = await write('delete', `/organizations/${org}/projects/${projectId}`);
    await expectEntries(deleted.requestId, [['Project', 'Removed', 'Apollo']]);
  });

  it('profile and token changes appear once in every organization of the user', async () => {
    const profile = await write('patch', '/me', { name: 'The Admin' });
    const token = await write('post', '/me/token');
    const newToken = token.res.body.token as string;
    admin.Authorization = `Bearer ${newToken}`;
    for (const o of [org, otherOrg]) {
      await expectEntries(profile.requestId, [['User', 'Modified', 'admin']], o);
      await expectEntries(token.requestId, [['User', 'Modified', 'admin']], o);
    }
    const all = JSON.stringify([...(await entriesOf(org)), ...(await entriesOf(otherOrg))]);
    expect(all).not.toContain(newToken);
    expect(all).not.toContain(BOOTSTRAP_TOKEN);
  });

  it('a member without organization.audit_logs.view gets 403; a non-member cannot read it either', async () => {
    const created = (await write('post', `/organizations/${otherOrg}/accounts`, { accounts: [{ email: 'reader@example.com' }] })).res.body.created[0];
    const login = await http
      .post('/api/v1/auth/password')
      .send({ login: created.username, currentPassword: created.temporaryPassword, newPassword: 'a long enough passphrase' })
      .expect(200);
    const member = { Authorization: `Bearer ${login.body.token}` };
    const changed = await eventually(async () =>
      (await entriesOf(otherOrg, { actorId: created.userId })).find((e) => e.description === 'set a password at first login'),
    );
    expect(changed).toMatchObject({
      resource: 'User',
      operation: 'Modified',
      resourceId: created.userId,
      actor: { id: created.userId, username: created.username },
    });
    const res = await http.get(`/api/v1/organizations/${otherOrg}/audit-logs`).set(member);
    expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await http.get(`/api/v1/organizations/${otherOrg}/audit-logs/export`).set(member)).status).toBe(403);
    expect((await http.get(`/api/v1/organizations/${org}/audit-logs`).set(member)).status).toBe(404);
    expect(JSON.stringify(await entriesOf(otherOrg))).not.toContain(created.temporaryPassword);
  });

  it('entries never cross organizations', async () => {
    for (const o of [org, otherOrg]) for (const e of await entriesOf(o)) expect(e.organizationId).toBe(o);
    const here = new Set((await entriesOf(org)).map((e) => e.id));
    for (const e of await entriesOf(otherOrg)) expect(here.has(e.id)).toBe(false);
  });
});
