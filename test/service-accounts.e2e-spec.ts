import { createHash } from 'node:crypto';
import request from 'supertest';
import type { MongoClient } from 'mongodb';
import type { AuditEntry } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/**
 * Service accounts through the gateway (docs/identity.md "Service accounts"): an organization's non-human
 * member, authenticated by its `pps_` tokens. Every token issued here is scanned for at the end in every log line
 * of the services and the gateway, every stored event and every audit entry.
 */
describe('service accounts (API.md "Additions")', () => {
  let system: RunningSystem;
  let mongo: MongoClient;
  let http: ReturnType<typeof request>;
  const logLines: string[] = [];
  const issued: string[] = [];
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const admin = auth(BOOTSTRAP_TOKEN);
  let orgA = '';
  let orgB = '';
  let member: Record<string, string> = {};
  let stranger: Record<string, string> = {};
  let saId = '';
  let token1 = '';
  let token1Id = '';
  let token2 = '';

  const expectProblem = (res: request.Response, status: number, code: string) => expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  const sas = (org = orgA) => `/api/v1/organizations/${org}/service-accounts`;
  async function newToken(id: string, body: Record<string, unknown>, org = orgA) {
    const res = await http
      .post(`${sas(org)}/${id}/tokens`)
      .set(admin)
      .send(body);
    expect({ status: res.status, body: res.status === 201 ? 'ok' : res.body }).toEqual({ status: 201, body: 'ok' });
    issued.push(res.body.token);
    return res.body as { id: string; name: string; expiresAt: string | null; createdAt: string; token: string };
  }
  /** a session of a person whose account `org` created */
  async function person(org: string, username: string) {
    const created = (
      await http
        .post(`/api/v1/organizations/${org}/accounts`)
        .set(admin)
        .send({ accounts: [{ email: `${username}@example.com`, username }] })
        .expect(201)
    ).body.created[0];
    const session = await http
      .post('/api/v1/auth/password')
      .send({ login: username, currentPassword: created.temporaryPassword, newPassword: `correct horse battery ${username}` })
      .expect(200);
    return auth(session.body.token);
  }
  const auditOf = async (org: string): Promise<AuditEntry[]> =>
    (await http.get(`/api/v1/organizations/${org}/audit-logs`).query({ limit: 500 }).set(admin).expect(200)).body.items;

  beforeAll(async () => {
    system = await startSystem({ LOG_LEVEL: 'debug', SERVICE_ACCOUNT_TOKEN_MAX_DAYS: '30' }, { logLines });
    mongo = await testMongo();
    http = request(system.baseUrl);
    orgA = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Acme', slug: 'acme' }).expect(201)).body.id;
    orgB = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Beta', slug: 'beta' }).expect(201)).body.id;
    member = await person(orgA, 'mel');
    stranger = await person(orgB, 'nora');
  });
  afterAll(async () => {
    await mongo?.close();
    await system?.close();
  });

  it('POST creates one with the Member role by default; names are unique in the organization regardless of case', async () => {
    const res = await http.post(sas()).set(admin).send({ name: 'ci-deploy', description: 'Deploys from CI' }).expect(201);
    saId = res.body.id;
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'service_account',
      name: 'ci-deploy',
      description: 'Deploys from CI',
      role: { id: expect.any(String), name: 'Member' },
      projectRoles: [],
      active: true,
      createdBy: expect.any(String),
      createdAt: expect.any(String),
    });
    expect(res.headers.location).toBe(`/api/v1/organizations/${orgA}/service-accounts/${saId}`);
    expectProblem(await http.post(sas()).set(admin).send({ name: 'CI-Deploy' }), 409, 'SERVICE_ACCOUNT_NAME_TAKEN');
    // another organization may use the name
    const inB = await http.post(sas(orgB)).set(admin).send({ name: 'ci-deploy' }).expect(201);
    await http
      .delete(`${sas(orgB)}/${inB.body.id}`)
      .set(admin)
      .expect(204);
  });

  it('never as Owner (403 PRIVILEGE_ESCALATION, nothing left behind); bad input is 400 and changes nothing', async () => {
    expectProblem(await http.post(sas()).set(admin).send({ name: 'would-own', roleId: 'Owner' }), 403, 'PRIVILEGE_ESCALATION');
    expectProblem(await http.post(sas()).set(member).send({ name: 'would-own' }), 403, 'FORBIDDEN');
    // refused before identity created anything
    const identityCommits = mongo.db(testDatabaseName('identity')).collection('event_commits');
    expect(await identityCommits.countDocuments({ 'events.data.name': 'would-own' })).toBe(0);
    for (const body of [
      { name: 'has space' },
      { name: 'x', plan: 'gold' },
      { description: 'no name' },
      { name: 'ok-name', roleId: 'Emperor' },
      { name: 'ok-name', active: 'yes' },
    ])
      expectProblem(await http.post(sas()).set(admin).send(body), 400, 'VALIDATION_FAILED');
    const list = (await http.get(sas()).set(admin).expect(200)).body;
    expect(list.items.map((s: { name: string }) => s.name)).toEqual(['ci-deploy']);
    // the refused name is free
    const again = await http.post(sas()).set(admin).send({ name: 'would-own' }).expect(201);
    await http.delete(`${sas()}/${again.body.id}`).set(admin).expect(204);
  });

  it('a Member gets 403 and a non-member 404', async () => {
    expectProblem(await http.get(sas()).set(member), 403, 'FORBIDDEN');
    expectProblem(await http.post(sas()).set(member).send({ name: 'mine' }), 403, 'FORBIDDEN');
    expectProblem(await http.post(`${sas()}/${saId}/tokens`).set(member).send({ name: 't' }), 403, 'FORBIDDEN');
    expectProblem(await http.get(sas()).set(stranger), 404, 'NOT_FOUND');
    expectProblem(await http.get(`${sas()}/${saId}`).set(stranger), 404, 'NOT_FOUND');
  });

  it('a token (pps_, shown once) authenticates as the service account: an allowed call, a refused one, GET /me', async () => {
    const t = await newToken(saId, { name: 'pipeline' });
    token1 = t.token;
    token1Id = t.id;
    expect(t.token).toMatch(/^pps_[0-9a-f]{72}$/);
    expect(Date.parse(t.expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000); // the maximum (30 days here) by default
    expect((await http.get('/api/v1/me').set(auth(token1)).expect(200)).body).toEqual({
      id: saId,
      type: 'service_account',
      name: 'ci-deploy',
      organizationId: orgA,
    });
    await http.get(`/api/v1/organizations/${orgA}/groups`).set(auth(token1)).expect(200); // organization.groups.view: Member has it
    expectProblem(await http.post(`/api/v1/organizations/${orgA}/groups`).set(auth(token1)).send({ name: 'Robots' }), 403, 'FORBIDDEN');
    expectProblem(await http.get(sas()).set(auth(token1)), 403, 'FORBIDDEN');
    // it is no person: no organizations, profile or password of its own
    expectProblem(await http.post('/api/v1/organizations').set(auth(token1)).send({ name: 'Mine' }), 403, 'FORBIDDEN');
    expectProblem(await http.patch('/api/v1/me').set(auth(token1)).send({ name: 'x' }), 403, 'FORBIDDEN');
    expectProblem(await http.post('/api/v1/auth/login').send({ login: 'ci-deploy', password: 'anything at all 123' }), 401, 'INVALID_CREDENTIALS');
  });

  it('tenant isolation: 404 everywhere in another organization, for its token and for its id', async () => {
    for (const path of ['', '/people', '/groups', '/service-accounts', '/audit-logs'])
      expectProblem(await http.get(`/api/v1/organizations/${orgB}${path}`).set(auth(token1)), 404, 'NOT_FOUND');
    expectProblem(await http.get(`${sas(orgB)}/${saId}`).set(admin), 404, 'NOT_FOUND');
    expectProblem(
      await http
        .patch(`${sas(orgB)}/${saId}`)
        .set(admin)
        .send({ active: false }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await http
        .post(`${sas(orgB)}/${saId}/tokens`)
        .set(admin)
        .send({ name: 'steal' }),
      404,
      'NOT_FOUND',
    );
    expectProblem(await http.delete(`${sas(orgB)}/${saId}/tokens/${token1Id}`).set(admin), 404, 'NOT_FOUND');
    expectProblem(await http.delete(`${sas(orgB)}/${saId}`).set(admin), 404, 'NOT_FOUND');
    // and a person is not a service account
    const me = (await http.get('/api/v1/me').set(admin).expect(200)).body.id;
    expectProblem(await http.delete(`${sas()}/${me}`).set(admin), 404, 'NOT_FOUND');
    await http.get('/api/v1/me').set(auth(token1)).expect(200);
  });

  it('is in the People list and in groups; its role changes like a person’s, never to Owner', async () => {
    const people = (await http.get(`/api/v1/organizations/${orgA}/people`).set(admin).expect(200)).body.items;
    expect(people).toEqual(expect.arrayContaining([expect.objectContaining({ id: saId, type: 'service_account' })]));
    const onlyAccounts = (await http.get(`/api/v1/organizations/${orgA}/people?type=service_account`).set(admin).expect(200)).body.items;
    expect(onlyAccounts.map((p: { id: string }) => p.id)).toContain(saId);
    expect(onlyAccounts.every((p: { type: string }) => p.type === 'service_account')).toBe(true);
    const group = (
      await http
        .post(`/api/v1/organizations/${orgA}/groups`)
        .set(admin)
        .send({ name: 'Deployers', memberIds: [saId] })
        .expect(201)
    ).body;
    expect(group.memberIds).toEqual([saId]);
    // a project role, like a user's
    const project = (await http.post(`/api/v1/organizations/${orgA}/projects`).set(admin).send({ name: 'api' }).expect(201)).body;
    await http
      .put(`/api/v1/organizations/${orgA}/projects/${project.id}/members/${saId}/role`)
      .set(admin)
      .send({ subjectType: 'user', roleId: 'Contributor' })
      .expect(200);
    expect((await http.get(`${sas()}/${saId}`).set(admin).expect(200)).body.projectRoles).toEqual([
      { projectId: project.id, roleId: expect.any(String), roleName: 'Contributor' },
    ]);
    await http.get(`/api/v1/organizations/${orgA}/projects/${project.id}`).set(auth(token1)).expect(200);
    expectProblem(await http.put(`/api/v1/organizations/${orgA}/people/${saId}/role`).set(admin).send({ roleId: 'Owner' }), 403, 'PRIVILEGE_ESCALATION');
    await http.put(`/api/v1/organizations/${orgA}/people/${saId}/role`).set(admin).send({ roleId: 'Admin' }).expect(200);
    expect((await http.get(`${sas()}/${saId}`).set(admin).expect(200)).body.role).toEqual({ id: expect.any(String), name: 'Admin' });
    // as Admin its token may now do what it could not (read-your-writes: the very next request)
    const made = await http.post(`/api/v1/organizations/${orgA}/groups`).set(auth(token1)).send({ name: 'Robots' }).expect(201);
    await eventually(
      async () =>
        (await auditOf(orgA)).find((e) => e.resource === 'Group' && e.resourceId === made.body.id && e.actor.id === saId && e.actor.username === 'ci-deploy'),
      15_000,
      'the group its token created, with the service account as the actor',
    );
  });

  it('rotation: the new token works, the old one is refused at once; GET shows the tokens’ metadata, never a token', async () => {
    const t2 = await newToken(saId, { name: 'pipeline-2' });
    token2 = t2.token;
    await http.get('/api/v1/me').set(auth(token2)).expect(200);
    await http.delete(`${sas()}/${saId}/tokens/${token1Id}`).set(admin).expect(204);
    expectProblem(await http.get('/api/v1/me').set(auth(token1)), 401, 'UNAUTHENTICATED');
    await http.get('/api/v1/me').set(auth(token2)).expect(200);
    expectProblem(await http.delete(`${sas()}/${saId}/tokens/${token1Id}`).set(admin), 404, 'NOT_FOUND');
    const detail = (await http.get(`${sas()}/${saId}`).set(admin).expect(200)).body;
    expect(detail.tokens).toEqual([{ id: t2.id, name: 'pipeline-2', createdAt: expect.any(String), expiresAt: t2.expiresAt, lastUsedAt: expect.any(String) }]);
    expect(JSON.stringify(detail)).not.toMatch(/pps_/);
  });

  it('expiry: a token is refused once its expiresAt has passed; an expiry in the past or beyond the maximum is 400', async () => {
    for (const expiresAt of [new Date(Date.now() - 1000).toISOString(), new Date(Date.now() + 31 * 86_400_000).toISOString(), 'soon'])
      expectProblem(await http.post(`${sas()}/${saId}/tokens`).set(admin).send({ name: 'bad', expiresAt }), 400, 'VALIDATION_FAILED');
    const short = await newToken(saId, { name: 'short', expiresAt: new Date(Date.now() + 3000).toISOString() });
    await http.get('/api/v1/me').set(auth(short.token)).expect(200);
    await new Promise((r) => setTimeout(r, Date.parse(short.expiresAt!) - Date.now() + 200));
    expectProblem(await http.get('/api/v1/me').set(auth(short.token)), 401, 'UNAUTHENTICATED');
  });

  it('deactivate refuses every token at once, reactivate lets them work again; a rename is seen', async () => {
    await http.patch(`${sas()}/${saId}`).set(admin).send({ active: false }).expect(200);
    expectProblem(await http.get('/api/v1/me').set(auth(token2)), 401, 'UNAUTHENTICATED');
    const back = await http.patch(`${sas()}/${saId}`).set(admin).send({ active: true, name: 'ci-release' }).expect(200);
    expect(back.body).toEqual(expect.objectContaining({ active: true, name: 'ci-release' }));
    expect((await http.get('/api/v1/me').set(auth(token2)).expect(200)).body.name).toBe('ci-release');
    const listed = (await http.get(`/api/v1/organizations/${orgA}/people?search=ci-rel`).set(admin).expect(200)).body.items;
    expect(listed).toEqual([expect.objectContaining({ id: saId, type: 'service_account', username: 'ci-release', name: 'ci-release' })]);
    expectProblem(await http.patch(`${sas()}/${saId}`).set(admin).send({ active: 'no' }), 400, 'VALIDATION_FAILED');
  });

  it('delete: every token dies at once, it leaves the organization, the audit log keeps its name', async () => {
    const other = await http.post(sas()).set(admin).send({ name: 'ci-deploy' }).expect(201); // the old name is free after the rename
    await http.delete(`${sas()}/${saId}`).set(admin).expect(204);
    expectProblem(await http.get('/api/v1/me').set(auth(token2)), 401, 'UNAUTHENTICATED');
    expectProblem(await http.get(`${sas()}/${saId}`).set(admin), 404, 'NOT_FOUND');
    expect((await http.get(sas()).set(admin).expect(200)).body.items.map((s: { id: string }) => s.id)).toEqual([other.body.id]);
    const people = (await http.get(`/api/v1/organizations/${orgA}/people`).set(admin).expect(200)).body.items;
    expect(people.map((p: { id: string }) => p.id)).not.toContain(saId);
    const entries = await eventually(
      async () => {
        const all = (await auditOf(orgA)).filter((e) => e.resource === 'ServiceAccount' && e.resourceId === saId);
        return all.some((e) => e.operation === 'Removed') && all;
      },
      15_000,
      'the deletion in the audit log',
    );
    expect(entries.map((e) => e.description)).toEqual(
      expect.arrayContaining([
        'created service account ci-deploy',
        expect.stringMatching(/^created token pipeline \(expires 20\d\d-/),
        'revoked token pipeline',
        'deactivated service account ci-deploy',
        'renamed service account ci-deploy to ci-release',
        'reactivated service account ci-release',
        'deleted service account ci-release (every token of it revoked)',
      ]),
    );
    expect(entries.find((e) => e.operation === 'Removed')).toEqual(
      expect.objectContaining({ resourceName: 'ci-release', actor: expect.objectContaining({ username: 'admin' }) }),
    );
  });

  it('no token (nor its hash) in any log line, stored event or audit entry', async () => {
    expect(issued.length).toBe(3);
    const secrets = issued.flatMap((t) => [t, t.slice(4), createHash('sha256').update(t).digest('hex')]);
    expect(logLines.length).toBeGreaterThan(100); // the services did log (LOG_LEVEL debug)
    const events: string[] = [];
    for (const service of ['identity', 'membership', 'authorization'])
      for (const c of await mongo.db(testDatabaseName(service)).collection('event_commits').find().toArray()) events.push(JSON.stringify(c));
    expect(events.join('\n')).toMatch(/service-account\.token-created/);
    const audit = JSON.stringify([...(await auditOf(orgA)), ...(await auditOf(orgB))]);
    expect(audit).toMatch(/created token pipeline/);
    const stored = JSON.stringify(await mongo.db(testDatabaseName('audit-log')).collection('audit_entries').find().toArray()).concat(audit);
    for (const [where, text] of [
      ['logs', logLines.join('\n')],
      ['events', events.join('\n')],
      ['audit entries', stored],
    ] as const)
      for (const s of secrets) expect({ where, leaked: text.includes(s) }).toEqual({ where, leaked: false });
  });
});
