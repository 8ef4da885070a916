import request from 'supertest';
import type { INestApplication } from '@nestjs/common';
import { builtInRoleId } from '@app/contracts';
import { loadConfig, startService, type RunningService } from '@app/platform';
import { freePort, requireInfraEnv, serviceTestEnv } from '@app/testing';
import { createGatewayApp } from '../apps/gateway/src/gateway.app';
import { AuthorizationModule } from '../apps/authorization/src/authorization.module';
import { BOOTSTRAP_EMAIL, BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * Immediate revocation under concurrent load, across two gateway instances and two authorization replicas:
 * once a write that removes access has returned, no request of the affected user that starts afterwards is
 * allowed by the old state. And the Owner race: two Owners demoting each other at once leave one Owner.
 */
describe('authorization: immediate revocation and the Owner race', () => {
  let system: RunningSystem;
  let gateway2: INestApplication;
  let authz2: RunningService;
  let urls: string[] = [];
  let http: ReturnType<typeof request>;
  const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const owner = auth(BOOTSTRAP_TOKEN);
  const api = (path: string) => `/api/v1${path}`;
  let org = '';
  let n = 0;
  const role = (key: Parameters<typeof builtInRoleId>[1], o = org) => builtInRoleId(o, key);

  async function account(inOrg: string): Promise<{ userId: string; token: string }> {
    const username = `user${++n}`;
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
    return { userId: created.userId, token: session.body.token };
  }

  /**
   * Runs `workers` loops of `path` as `token`, alternating between the two gateways, while `write` happens
   * after `leadMs`; records for each request whether it started after the write had returned, and its status.
   */
  async function underLoad(token: string, path: string, write: () => Promise<unknown>, opts = { workers: 6, leadMs: 300, tailMs: 400 }) {
    const results: Array<{ after: boolean; status: number }> = [];
    let written = false;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const after = written;
        const res = await fetch(`${urls[(w + i) % 2]}${api(path)}`, { headers: auth(token) });
        await res.arrayBuffer();
        results.push({ after, status: res.status });
      }
    };
    const workers = Array.from({ length: opts.workers }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, opts.leadMs));
    await write();
    written = true;
    await new Promise((r) => setTimeout(r, opts.tailMs));
    stop = true;
    await Promise.all(workers);
    const before = results.filter((r) => !r.after);
    const after = results.filter((r) => r.after);
    return { beforeOk: before.filter((r) => r.status === 200).length, after: after.map((r) => r.status) };
  }

  beforeAll(async () => {
    system = await startSystem();
    http = request(system.baseUrl);
    const env = (service: 'gateway' | 'authorization') =>
      serviceTestEnv(service, { BOOTSTRAP_ADMIN_EMAIL: BOOTSTRAP_EMAIL, BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP_TOKEN });
    authz2 = await startService(loadConfig('authorization', env('authorization')), AuthorizationModule.register());
    gateway2 = await createGatewayApp(
      loadConfig('gateway', { ...env('gateway'), NATS_URL: requireInfraEnv().natsUrl, GATEWAY_PORT: '0', METRICS_PORT: String(await freePort()) }),
    );
    await gateway2.listen(0, '127.0.0.1');
    urls = [system.baseUrl, `http://127.0.0.1:${(gateway2.getHttpServer().address() as { port: number }).port}`];
    org = (await http.post(api('/organizations')).set(owner).send({ name: 'Revocation Org' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await gateway2?.close();
    await authz2?.close();
    await system?.close();
  });

  const expectRevoked = (r: { beforeOk: number; after: number[] }, denied: number) => {
    expect(r.beforeOk).toBeGreaterThan(0);
    expect(r.after.length).toBeGreaterThan(0);
    expect(r.after.filter((s) => s !== denied)).toEqual([]);
  };

  it('role lowered (Admin → Member): every request started after the write returned is 403', async () => {
    const u = await account(org);
    await http
      .put(api(`/organizations/${org}/people/${u.userId}/role`))
      .set(owner)
      .send({ roleId: role('admin') })
      .expect(200);
    const r = await underLoad(u.token, `/organizations/${org}/roles`, () =>
      http
        .put(api(`/organizations/${org}/people/${u.userId}/role`))
        .set(owner)
        .send({ roleId: role('member') })
        .expect(200),
    );
    expectRevoked(r, 403);
  });

  it('removed from the organization: 404 from then on', async () => {
    const u = await account(org);
    const r = await underLoad(
      u.token,
      `/organizations/${org}/roles?scope=project`,
      async () => {
        await http
          .put(api(`/organizations/${org}/people/${u.userId}/role`))
          .set(owner)
          .send({ roleId: role('admin') })
          .expect(200);
        await http
          .delete(api(`/organizations/${org}/people/${u.userId}`))
          .set(owner)
          .expect(204);
      },
      { workers: 6, leadMs: 0, tailMs: 400 },
    );
    expect(r.after.length).toBeGreaterThan(0);
    expect(r.after.filter((s) => s !== 404)).toEqual([]);
  });

  it('left the group that gave the role, and a custom role edited: 403 from then on', async () => {
    const u = await account(org);
    const group = (
      await http
        .post(api(`/organizations/${org}/groups`))
        .set(owner)
        .send({ name: `Admins ${n}`, description: '', memberIds: [u.userId] })
        .expect(201)
    ).body.id;
    await http
      .put(api(`/organizations/${org}/groups/${group}/role`))
      .set(owner)
      .send({ roleId: role('admin') })
      .expect(200);
    expectRevoked(
      await underLoad(u.token, `/organizations/${org}/roles`, () =>
        http
          .patch(api(`/organizations/${org}/groups/${group}`))
          .set(owner)
          .send({ removeMemberIds: [u.userId] })
          .expect(200),
      ),
      403,
    );

    const viewer = (
      await http
        .post(api(`/organizations/${org}/roles`))
        .set(owner)
        .send({ name: `Role viewer ${n}`, description: '', scope: 'organization', permissions: ['organization.custom_roles.view'] })
        .expect(201)
    ).body.id;
    await http
      .put(api(`/organizations/${org}/people/${u.userId}/role`))
      .set(owner)
      .send({ roleId: viewer })
      .expect(200);
    expectRevoked(
      await underLoad(u.token, `/organizations/${org}/roles`, () =>
        http
          .patch(api(`/organizations/${org}/roles/${viewer}`))
          .set(owner)
          .send({ permissions: [] })
          .expect(200),
      ),
      403,
    );
  });

  it('project binding removed: 403 on the project from then on', async () => {
    const u = await account(org);
    const project = (
      await http
        .post(api(`/organizations/${org}/projects`))
        .set(owner)
        .send({ name: `p${n}` })
        .expect(201)
    ).body.id;
    await http
      .put(api(`/organizations/${org}/projects/${project}/members/${u.userId}/role`))
      .set(owner)
      .send({ roleId: role('project-reader'), subjectType: 'user' })
      .expect(200);
    expectRevoked(
      await underLoad(u.token, `/organizations/${org}/projects/${project}/members`, () =>
        http
          .delete(api(`/organizations/${org}/projects/${project}/members/${u.userId}`))
          .set(owner)
          .expect(204),
      ),
      403,
    );
  });

  it('race: two Owners demoting each other at the same time, through two gateways, leaves at least one Owner', async () => {
    for (let round = 0; round < 4; round++) {
      const o = (
        await http
          .post(api('/organizations'))
          .set(owner)
          .send({ name: `Race ${round}` })
          .expect(201)
      ).body.id;
      const b = await account(o);
      await http
        .put(api(`/organizations/${o}/people/${b.userId}/role`))
        .set(owner)
        .send({ roleId: role('owner', o) })
        .expect(200);
      const me = (await http.get(api('/me')).set(owner).expect(200)).body.id;
      const [ra, rb] = await Promise.all([
        request(urls[0])
          .put(api(`/organizations/${o}/people/${b.userId}/role`))
          .set(owner)
          .send({ roleId: role('admin', o) }),
        request(urls[1])
          .put(api(`/organizations/${o}/people/${me}/role`))
          .set(auth(b.token))
          .send({ roleId: role('admin', o) }),
      ]);
      expect([ra.status, rb.status].filter((s) => s === 200)).toHaveLength(1);
      expect([ra.body.code, rb.body.code].filter(Boolean)[0]).toMatch(/^(FORBIDDEN|LAST_OWNER)$/);
      const owners = await Promise.all(
        [owner, auth(b.token)].map(
          async (h) =>
            (
              await request(urls[round % 2])
                .post(api(`/organizations/${o}/permissions/check`))
                .set(h)
                .send({ permissions: ['organization.change_owner'] })
                .expect(200)
            ).body.allowed['organization.change_owner'],
        ),
      );
      expect(owners.filter(Boolean)).toHaveLength(1);
    }
  });
});
