import request from 'supertest';
import { connect, type NatsConnection } from 'nats';
import { AuthorizationSubjects, builtInRoleId, eventsStreamName, IdentitySubjects, MembershipSubjects } from '@app/contracts';
import { requireInfraEnv, testNaming } from '@app/testing';
import { BOOTSTRAP_TOKEN, eventually, natsQuery, startSystem, type RunningSystem } from './support/system';

/**
 * The fast request path (docs/identity.md "Verified tokens at the gateway"): API tokens and sessions verified
 * once and cached by each gateway, invalidated by identity's events, with a read index so that a revocation answered
 * through one gateway is refused by the very next request through another; guarded requests cost one hop.
 */
describe('fast path: cached token verification, immediate revocation across gateways and identity replicas', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  let urls: string[] = [];
  let org = '';
  let n = 0;
  const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const owner = auth(BOOTSTRAP_TOKEN);
  const me = (url: string, token: string) => request(url).get('/api/v1/me').set(auth(token));
  /** NATS requests seen per subject (a wildcard subscription on this file's namespace) */
  const seen: Record<string, number> = {};
  const count = (subject: string) => seen[subject] ?? 0;
  /** the services' and gateways' warnings and errors */
  const logLines: string[] = [];

  /** An account of the organization with a session and a personal API token. */
  async function account(): Promise<{ userId: string; session: string; token: string; password: string }> {
    const username = `fast${++n}`;
    const created = (
      await request(urls[0])
        .post(`/api/v1/organizations/${org}/accounts`)
        .set(owner)
        .send({ accounts: [{ email: `${username}@example.com`, username }] })
        .expect(201)
    ).body.created[0];
    const password = `correct horse battery ${username}`;
    const from = logLines.length;
    const changed = await request(urls[0])
      .post('/api/v1/auth/password')
      .send({ login: username, currentPassword: created.temporaryPassword, newPassword: password });
    // (CI saw a rare 503 here: what the answer and the services said, should it come back)
    if (changed.status !== 200)
      throw new Error(`password change: ${changed.status} ${JSON.stringify(changed.body)}\nservice warnings and errors:\n${logLines.slice(from).join('')}`);
    const session = changed.body.token;
    const token = (await request(urls[0]).post('/api/v1/me/token').set(auth(session)).expect(200)).body.token;
    return { userId: created.userId, session, token, password };
  }

  /** Both gateways have verified (and cached) the token. */
  const warm = async (token: string) => {
    for (const url of urls) for (let i = 0; i < 2; i++) await me(url, token).expect(200);
  };

  beforeAll(async () => {
    system = await startSystem({ LOG_LEVEL: 'warn' }, { logLines });
    urls = [system.baseUrl, await system.addGateway()];
    await system.addReplica('identity');
    nc = await connect({ servers: requireInfraEnv().natsUrl });
    for (const subject of [testNaming().subject('qry.>'), `$JS.API.STREAM.INFO.${eventsStreamName(testNaming())}`])
      nc.subscribe(subject, {
        callback: (_err, msg) => {
          const subject = testNaming().local(msg.subject); // as the code names it
          seen[subject] = (seen[subject] ?? 0) + 1;
        },
      });
    org = (await request(urls[0]).post('/api/v1/organizations').set(owner).send({ name: 'Fast Path Org' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await nc?.drain();
    await system?.close();
  });

  it('token reset through one gateway: the old token is refused by the very next request through the other', async () => {
    for (const [from, to] of [
      [0, 1],
      [1, 0],
    ]) {
      const u = await account();
      await warm(u.token);
      const fresh = (await request(urls[from]).post('/api/v1/me/token').set(auth(u.token)).expect(200)).body.token;
      await me(urls[to], u.token).expect(401);
      await me(urls[from], u.token).expect(401);
      await me(urls[to], fresh).expect(200);
    }
  });

  it('password reset by the organization: API token and session (both cached) refused at once through the other gateway', async () => {
    const u = await account();
    await warm(u.token);
    await warm(u.session);
    await request(urls[0]).post(`/api/v1/organizations/${org}/people/${u.userId}/password`).set(owner).expect(200);
    await me(urls[1], u.token).expect(401);
    await me(urls[1], u.session).expect(401);
    await me(urls[0], u.session).expect(401);
  });

  const login = async (username: string, password: string) =>
    (await request(urls[0]).post('/api/v1/auth/login').send({ login: username, password }).expect(200)).body.token as string;

  it('logout through one gateway: every session of the caller (cached by the other) is refused by its very next request', async () => {
    for (const [a, b] of [
      [0, 1],
      [1, 0],
    ]) {
      const u = await account();
      const other = await login(`fast${n}`, u.password);
      await warm(u.session);
      await warm(other);
      await request(urls[b]).post('/api/v1/auth/logout').set(auth(u.session)).expect(204);
      await me(urls[a], u.session).expect(401);
      await me(urls[a], other).expect(401);
      await me(urls[b], other).expect(401);
      await me(urls[a], u.token).expect(200); // the API token is not a session
      // a new login works again, and logging out with an ended session is refused
      const again = await login(`fast${n}`, u.password);
      await me(urls[a], again).expect(200);
      await request(urls[a]).post('/api/v1/auth/logout').set(auth(u.session)).expect(401);
      await me(urls[b], again).expect(200);
    }
  });

  it('password change: the sessions (cached) are refused at once through the other gateway', async () => {
    const u = await account();
    const [a, b] = [await login(`fast${n}`, u.password), await login(`fast${n}`, u.password)];
    await warm(a);
    await warm(b);
    await request(urls[0])
      .post('/api/v1/auth/password')
      .send({ login: `fast${n}`, currentPassword: u.password, newPassword: `${u.password} again` })
      .expect(200);
    await me(urls[1], a).expect(401);
    await me(urls[1], b).expect(401);
    await me(urls[0], a).expect(401);
    await me(urls[1], u.token).expect(200); // the API token is not a session
  });

  it('member removed through one gateway: the check through the other answers 404 at once (cached token, read index as atLeast)', async () => {
    const u = await account();
    const check = (url: string) =>
      request(url)
        .post(`/api/v1/organizations/${org}/permissions/check`)
        .set(auth(u.token))
        .send({ permissions: ['organization.change_owner'] });
    for (const url of urls) await check(url).expect(200);
    await request(urls[0]).delete(`/api/v1/organizations/${org}/people/${u.userId}`).set(owner).expect(204);
    await check(urls[1]).expect(404);
    // nor may they check someone else (the route's own look at the caller: a non-member is 404, not 403)
    const ownerId = (await me(urls[1], BOOTSTRAP_TOKEN).expect(200)).body.id as string;
    const other = await request(urls[1])
      .post(`/api/v1/organizations/${org}/permissions/check`)
      .set(auth(u.token))
      .send({ userId: ownerId, permissions: ['organization.view'] });
    expect(other.status).toBe(404);
  });

  it('a cached session: N requests with one session cost one verify-token and one get-user (the profile kept with the session)', async () => {
    const u = await account();
    const verify = IdentitySubjects.verifyToken();
    await nc.flush();
    const [verifyBefore, getUserBefore] = [count(verify), count(IdentitySubjects.getUser())];
    for (let i = 0; i < 20; i++) await me(urls[1], u.session).expect(200);
    await nc.flush();
    expect(count(verify) - verifyBefore).toBe(1);
    expect(count(IdentitySubjects.getUser()) - getUserBefore).toBe(1); // the first GET /me's; the others answered by the gateway
  });

  it('a profile change through one gateway is read right after through the other, which had the old profile cached', async () => {
    for (const [from, to] of [
      [0, 1],
      [1, 0],
    ]) {
      const u = await account();
      const [token, session] = [u.token, u.session];
      await warm(token);
      await warm(session);
      const username = `renamed${n}x${from}`;
      await request(urls[from])
        .patch('/api/v1/me')
        .set(auth(token))
        .send({ name: `Renamed ${n}`, username })
        .expect(200);
      for (const t of [token, session]) expect((await me(urls[to], t).expect(200)).body).toMatchObject({ id: u.userId, username, name: `Renamed ${n}` });
      const email = `${username}@example.org`;
      await request(urls[to]).put('/api/v1/me/email').set(auth(session)).send({ email }).expect(200);
      for (const url of urls) expect((await me(url, token).expect(200)).body).toMatchObject({ username, name: `Renamed ${n}`, email });
    }
  });

  it('the cache is used: N requests with one token cost one verify-token and, under the read lease, no look-up; a check costs no NATS request (the gateway’s access index)', async () => {
    const u = await account();
    const verify = IdentitySubjects.verifyToken();
    const check = AuthorizationSubjects.check();
    const info = `$JS.API.STREAM.INFO.${eventsStreamName(testNaming())}`;
    const snapshot = () => ({
      verify: count(verify),
      check: count(check),
      orgAccess: count(AuthorizationSubjects.orgAccess()),
      info: count(info),
      getUser: count(IdentitySubjects.getUser()),
    });
    await nc.flush();
    const before = snapshot();
    for (let i = 0; i < 20; i++) await me(urls[1], u.token).expect(200);
    await nc.flush();
    const afterMe = snapshot();
    expect(afterMe.verify - before.verify).toBe(1);
    expect(afterMe.getUser - before.getUser).toBe(1); // the first request's: GET /me costs no NATS request once the profile is cached
    // GET /me is answered from the gateway's memory under its read lease: no look-up of the stream's end per
    // request (without the lease, one per request when they come one by one: 20); the lease's renewals look it up
    // once a second per gateway, and other services' own look-ups may add a few
    expect(afterMe.info - before.info).toBeLessThan(8);

    // POST …/permissions/check: decided by the gateway's access index (the organization was loaded into it by the
    // requests before, through this gateway), so no NATS request at all; an answer that allows everything asked
    // stands on the read lease's floor (no look-up), a refusal is decided again after a look-up of the stream's end
    const checks = async (permission: string) => {
      for (let i = 0; i < 10; i++)
        await request(urls[1])
          .post(`/api/v1/organizations/${org}/permissions/check`)
          .set(auth(u.token))
          .send({ permissions: [permission] })
          .expect(200);
      await nc.flush();
      return snapshot();
    };
    const afterAllowed = await checks('organization.view');
    expect(afterAllowed.verify - afterMe.verify).toBe(0);
    expect(afterAllowed.check - afterMe.check).toBe(0);
    expect(afterAllowed.orgAccess - afterMe.orgAccess).toBeLessThanOrEqual(1);
    expect(afterAllowed.info - afterMe.info).toBeLessThan(8);
    const afterRefused = await checks('organization.change_owner');
    expect(afterRefused.check - afterAllowed.check).toBe(0);
    expect(afterRefused.info - afterAllowed.info).toBeGreaterThanOrEqual(10);
    expect(afterRefused.info - afterAllowed.info).toBeLessThan(20);
    // concurrent requests share look-ups (streamLastSequence): shown deterministically in
    // libs/event-store/src/caught-up.spec.ts; through HTTP it depends on how the requests happen to overlap
  });

  it('a people list costs one look-up of the stream’s end, the gateway’s read index, which membership waits for instead of its own', async () => {
    const u = await account();
    const info = `$JS.API.STREAM.INFO.${eventsStreamName(testNaming())}`;
    // an Admin (who may view people) with no writes of its own: its requests carry no consistency token
    await request(urls[0])
      .put(`/api/v1/organizations/${org}/people/${u.userId}/role`)
      .set(owner)
      .send({ roleId: builtInRoleId(org, 'admin') })
      .expect(200);
    const list = () => request(urls[0]).get(`/api/v1/organizations/${org}/people`).set(auth(u.token)).expect(200);
    // warm: the token verified, the role change applied by the gateway's access index (the owner's write, not the caller's)
    await eventually(
      async () => (await request(urls[0]).get(`/api/v1/organizations/${org}/people`).set(auth(u.token))).status === 200,
      5000,
      'the role change',
    );
    await nc.flush();
    const before = count(info);
    for (let i = 0; i < 10; i++) expect((await list()).body.items.map((p: { id: string }) => p.id)).toContain(u.userId);
    await nc.flush();
    // one per request (other services' own look-ups may add a few); two per request when membership looked again
    expect(count(info) - before).toBeGreaterThanOrEqual(10);
    expect(count(info) - before).toBeLessThan(15);
  });

  it('a people page kept by each gateway: asked of membership once, then dropped at once by a change through the other gateway', async () => {
    const viewer = await account();
    const other = await account();
    await request(urls[0])
      .put(`/api/v1/organizations/${org}/people/${viewer.userId}/role`)
      .set(owner)
      .send({ roleId: builtInRoleId(org, 'admin') })
      .expect(200);
    const list = async (url: string) =>
      (await request(url).get(`/api/v1/organizations/${org}/people?limit=500`).set(auth(viewer.token)).expect(200)).body.items as Array<{
        id: string;
        name: string;
      }>;
    for (const url of urls)
      await eventually(
        async () => (await request(url).get(`/api/v1/organizations/${org}/people`).set(auth(viewer.token))).status === 200,
        5000,
        'the role change',
      );
    const listPeople = MembershipSubjects.listPeople();
    await nc.flush();
    const before = count(listPeople);
    const first = await list(urls[0]);
    for (let i = 0; i < 5; i++) for (const url of urls) expect(await list(url)).toEqual(first);
    await nc.flush();
    // one request to membership per gateway: the other nine lists were answered by the gateways
    expect(count(listPeople) - before).toBe(2);

    // a profile change through gateway 1 (identity answers once its event is published): read by gateway 0's next list
    await request(urls[1]).patch('/api/v1/me').set(auth(other.token)).send({ name: 'Renamed Colleague' }).expect(200);
    expect((await list(urls[0])).find((p) => p.id === other.userId)?.name).toBe('Renamed Colleague');
    // a member removed through gateway 0 (a revocation: answered once published): gone from gateway 1's next list
    await list(urls[1]);
    await request(urls[0]).delete(`/api/v1/organizations/${org}/people/${other.userId}`).set(owner).expect(204);
    expect((await list(urls[1])).map((p) => p.id)).not.toContain(other.userId);
    // the viewer's own write (its consistency token) is in its next list, whichever gateway kept a page
    await list(urls[0]);
    const group = (await request(urls[0]).post(`/api/v1/organizations/${org}/groups`).set(auth(viewer.token)).send({ name: 'Kept Pages' }).expect(201)).body.id;
    expect((await list(urls[0])).map((p) => p.id)).toContain(group);
  });

  it('a role change takes the custom roles from membership’s view of the role events, not from a request to authorization', async () => {
    const u = await account();
    const role = (
      await request(urls[0])
        .post(`/api/v1/organizations/${org}/roles`)
        .set(owner)
        .send({ name: 'Fast Path Viewers', description: '', scope: 'organization', permissions: ['organization.view'] })
        .expect(201)
    ).body;
    const asked = count(AuthorizationSubjects.roles());
    // the role created a moment ago (it is known: no 404), then a built-in one, then the custom one again
    for (const roleId of [role.id as string, builtInRoleId(org, 'member'), role.id as string])
      await request(urls[0]).put(`/api/v1/organizations/${org}/people/${u.userId}/role`).set(owner).send({ roleId }).expect(200);
    expect(count(AuthorizationSubjects.roles()) - asked).toBe(0);
  });

  it('a check with a malformed atLeast is VALIDATION_FAILED', async () => {
    for (const atLeast of [-1, 1.5, '7'])
      await expect(natsQuery(nc, AuthorizationSubjects.check(), { organizationId: org, userId: org, permissions: [], atLeast })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    await expect(natsQuery(nc, AuthorizationSubjects.check(), { organizationId: org, userId: org, permissions: [], atLeast: 1 })).resolves.toMatchObject({
      member: false,
    });
  });
});
