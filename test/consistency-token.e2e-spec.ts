import request from 'supertest';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { builtInRoleId, MembershipSubjects, type CommandMeta } from '@app/contracts';
import { requireInfraEnv, testNaming } from '@app/testing';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * Writes that do not wait on the broker (docs/architecture.md): a membership command answers with the position of
 * its append in `Consistency-Token`; the gateway remembers it for the caller and names it (`meta.after`) in the
 * caller's later messages, whose reads wait until they have applied it; a malformed token is refused at once.
 */
describe('consistency tokens', () => {
  let system: RunningSystem;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  const owner = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  const api = (path: string) => `/api/v1${path}`;
  let org = '';
  let userId = '';
  let session = '';
  /** the meta of every `get-organization` query the gateway sends (the route of GET /organizations/{org}) */
  const reads: CommandMeta[] = [];

  beforeAll(async () => {
    system = await startSystem();
    http = request(system.baseUrl);
    nc = await connect({ servers: requireInfraEnv().natsUrl });
    const codec = JSONCodec<{ data: { meta: CommandMeta } }>();
    nc.subscribe(testNaming().subject(MembershipSubjects.getOrganization()), { callback: (_err, msg) => void reads.push(codec.decode(msg.data).data.meta) });
    org = (await http.post(api('/organizations')).set(owner).send({ name: 'Tokens' }).expect(201)).body.id;
    const created = (
      await http
        .post(api(`/organizations/${org}/accounts`))
        .set(owner)
        .send({ accounts: [{ email: 'tok@example.com', username: 'tok' }] })
        .expect(201)
    ).body.created[0];
    userId = created.userId;
    session = (
      await http
        .post(api('/auth/password'))
        .send({ login: 'tok', currentPassword: created.temporaryPassword, newPassword: 'correct horse battery tok' })
        .expect(200)
    ).body.token;
  });
  afterAll(async () => {
    await nc?.drain();
    await system?.close();
  });

  it('a role change answers with the position of its append; the caller’s next requests name it, other callers’ do not', async () => {
    const res = await http
      .put(api(`/organizations/${org}/people/${userId}/role`))
      .set(owner)
      .send({ roleId: builtInRoleId(org, 'admin') })
      .expect(200);
    const token = res.headers['consistency-token'];
    expect(token).toMatch(new RegExp(`^organization-${org}@[1-9][0-9]*$`));
    expect(res.body).not.toHaveProperty('consistencyToken');
    await nc.flush();
    reads.length = 0;
    // the owner does not send it back: the gateway remembers it
    await http
      .get(api(`/organizations/${org}`))
      .set(owner)
      .expect(200);
    await http
      .get(api(`/organizations/${org}`))
      .set({ Authorization: `Bearer ${session}` })
      .expect(200);
    await nc.flush();
    expect(reads.map((m) => m.after)).toEqual([[token], undefined]);
  });

  it('a read waits for the position it names: one not reached is 503 SERVICE_UNAVAILABLE (bounded); the one answered is read at once', async () => {
    const res = await http
      .put(api(`/organizations/${org}/people/${userId}/role`))
      .set(owner)
      .send({ roleId: builtInRoleId(org, 'member') })
      .expect(200);
    const token = String(res.headers['consistency-token']);
    const member = { Authorization: `Bearer ${session}` };
    await http
      .get(api(`/organizations/${org}`))
      .set(member)
      .set('Consistency-Token', token)
      .expect(200);
    const ahead = `organization-${org}@${Number(token.split('@')[1]) + 1000}`;
    const began = Date.now();
    const late = await http
      .get(api(`/organizations/${org}`))
      .set(member)
      .set('Consistency-Token', ahead);
    expect(late.status).toBe(503);
    expect(late.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(Date.now() - began).toBeGreaterThanOrEqual(2500);
  });

  it('a malformed Consistency-Token is 400 VALIDATION_FAILED at once, and nothing runs', async () => {
    for (const bad of ['nope', `organization-${org}@0`, `organization-${org}@1; x`, `organization-${org.toUpperCase()}@1`]) {
      const began = Date.now();
      const res = await http
        .put(api(`/organizations/${org}/people/${userId}/role`))
        .set(owner)
        .set('Consistency-Token', bad)
        .send({ roleId: builtInRoleId(org, 'admin') });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(Date.now() - began).toBeLessThan(1000);
    }
    const people = await http
      .get(api(`/organizations/${org}/people`))
      .set(owner)
      .query({ search: 'tok' })
      .expect(200);
    expect(people.body.items[0].roles).toEqual([{ id: builtInRoleId(org, 'member'), name: 'Member', source: 'direct' }]);
  });
});
