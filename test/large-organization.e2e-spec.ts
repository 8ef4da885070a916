import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { JSONCodec, type NatsConnection } from 'nats';
import { AuthorizationSubjects, builtInRoleId, catalogueEvent, eventMetadata, evtSubject, systemMeta, type DomainEvent } from '@app/contracts';
import { testNats, testNaming } from '@app/testing';
import { fenceReaders } from '@app/messaging';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/** More members than one NATS message (1 MiB by default) can carry the access state of (about 6,000). */
const MEMBERS = 8000;

/**
 * An organization whose access state does not fit in one NATS message: the gateway cannot load it into its
 * access index (authorization answers `tooLarge`), so its guarded requests are checked by authorization, one hop
 * each, with the same answers (docs/architecture.md "Checks at the gateway").
 */
describe('a large organization (its access state is larger than a NATS message)', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  const admin = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  let org = '';
  const userIdOf = (i: number) => `${org.slice(0, 24)}${String(i).padStart(12, '0')}`;
  const meta = eventMetadata(systemMeta(randomUUID()));
  /** An event of the organization's stream, published as membership publishes it (JetStream has it once this resolves). */
  const publishMembership = (type: string, streamVersion: number, data: Record<string, unknown>) => {
    const event = {
      id: randomUUID(),
      type,
      version: 1,
      streamId: `organization-${org}`,
      streamVersion,
      service: 'membership',
      occurredAt: new Date().toISOString(),
      organizationId: org,
      data,
      metadata: meta,
    } as DomainEvent;
    const subject = testNaming().subject(evtSubject('membership', event.type, event.version));
    return nc.jetstream().publish(subject, JSONCodec().encode(catalogueEvent(event)), { msgID: event.id });
  };

  beforeAll(async () => {
    system = await startSystem();
    nc = await testNats();
    const http = request(system.baseUrl);
    org = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Large Org' }).expect(201)).body.id;
    // the audit log would write an entry per member meanwhile: not what this file is about
    await system.stopService('audit-log');
    // members joined as membership publishes them (not through the API: 8,000 commands would take minutes here);
    // no guarded request before, so the gateway first loads the organization at its full size
    const member = builtInRoleId(org, 'member');
    for (let from = 0; from < MEMBERS; from += 500)
      await Promise.all(
        Array.from({ length: 500 }, (_, k) => {
          const i = from + k;
          return publishMembership('organization.member-added', 1000 + i, {
            organizationId: org,
            userId: userIdOf(i),
            username: `large.member.${i}`,
            roleId: member,
            via: 'account',
          });
        }),
      );
  }, 120_000);
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  it('its guarded routes answer as for any organization: the people list, a member’s permissions, a stranger 404', async () => {
    const http = request(system.baseUrl);
    const people = await http.get(`/api/v1/organizations/${org}/people?search=large.member.7999`).set(admin);
    expect({ status: people.status, ids: people.body.items?.map((p: { id: string }) => p.id) }).toEqual({ status: 200, ids: [userIdOf(MEMBERS - 1)] });
    const check = (userId: string) =>
      http
        .post(`/api/v1/organizations/${org}/permissions/check`)
        .set(admin)
        .send({ userId, permissions: ['organization.view', 'organization.people.manage'] });
    const last = await check(userIdOf(MEMBERS - 1));
    expect({ status: last.status, body: last.body }).toEqual({
      status: 200,
      body: { allowed: { 'organization.view': true, 'organization.people.manage': false } },
    });
    expect((await check(randomUUID())).status).toBe(404);
    // the caller is the owner: may manage people
    const own = await http
      .post(`/api/v1/organizations/${org}/permissions/check`)
      .set(admin)
      .send({ permissions: ['organization.people.manage'] });
    expect({ status: own.status, body: own.body }).toEqual({ status: 200, body: { allowed: { 'organization.people.manage': true } } });
  }, 60_000);

  it("authorization's answer is used again until an event of the organization: a member removed is a stranger on the very next check", async () => {
    const http = request(system.baseUrl);
    let asked = 0;
    const counter = nc.subscribe(testNaming().subject(AuthorizationSubjects.check()), { callback: () => void asked++ });
    await nc.flush();
    const userId = userIdOf(42);
    const check = () =>
      http
        .post(`/api/v1/organizations/${org}/permissions/check`)
        .set(admin)
        .send({ userId, permissions: ['organization.view'] });
    expect((await check()).body).toEqual({ allowed: { 'organization.view': true } });
    await nc.flush();
    const first = asked; // the member's question, and the caller's own membership unless an earlier test asked it
    expect(first).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 4; i++) expect((await check()).body).toEqual({ allowed: { 'organization.view': true } });
    await nc.flush();
    expect(asked).toBe(first); // the same questions again: no hop

    // membership removes the member (published as membership publishes a revoking commit: JetStream has it, and
    // the gateways' read leases are fenced, before the next request)
    const removed = await publishMembership('organization.member-removed', 1000 + MEMBERS, {
      organizationId: org,
      userId,
      username: 'large.member.42',
      groupIds: [],
    });
    await fenceReaders(nc, testNaming(), removed.seq);
    const after = await check();
    expect({ status: after.status, code: after.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    await nc.flush();
    expect(asked).toBe(first + 2); // both questions asked again: the event voided every answer about the organization
    counter.unsubscribe();
  }, 60_000);
});
