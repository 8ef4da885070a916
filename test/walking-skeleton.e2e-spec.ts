import request from 'supertest';
import type { NatsConnection } from 'nats';
import { AuditLogSubjects, type AuditEntry } from '@app/contracts';
import { publishedEvents, testNats } from '@app/testing';
import { BOOTSTRAP_EMAIL, BOOTSTRAP_TOKEN, eventually, natsQuery, startSystem, type RunningSystem } from './support/system';

describe('walking skeleton: gateway → NATS → services → JetStream → audit log', () => {
  let system: RunningSystem;
  let nc: NatsConnection;

  beforeAll(async () => {
    system = await startSystem({ BOOTSTRAP_ORG_NAME: 'Acme Corp' });
    nc = await testNats();
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  it('GET /health answers while the process lives', async () => {
    await request(system.baseUrl).get('/health').expect(200, { status: 'ok', service: 'gateway' });
  });

  it('GET /health/serving is 200 with the NATS connection up; GET /health/ready 200 when every service answers with its database', async () => {
    await request(system.baseUrl)
      .get('/health/serving')
      .expect(200, { status: 'ready', checks: { nats: 'up' } });
    const res = await request(system.baseUrl).get('/health/ready').expect(200);
    expect(res.body.checks).toEqual({ nats: 'up', identity: 'up', membership: 'up', authorization: 'up', 'audit-log': 'up' });
  });

  it('GET /api/v1/me with the bootstrap token returns the bootstrap admin (Bearer and Token schemes)', async () => {
    for (const scheme of ['Bearer', 'Token']) {
      const res = await request(system.baseUrl).get('/api/v1/me').set('Authorization', `${scheme} ${BOOTSTRAP_TOKEN}`).expect(200);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        username: 'admin',
        name: 'admin',
        email: BOOTSTRAP_EMAIL,
        createdAt: expect.any(String),
      });
    }
  });

  it('an unknown or missing token is 401 problem+json UNAUTHENTICATED', async () => {
    for (const auth of ['Bearer ppt_unknown-token-aaaaaaaaaaaaaaaaaaaa', undefined]) {
      const req = request(system.baseUrl).get('/api/v1/me');
      const res = await (auth ? req.set('Authorization', auth) : req).expect(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', title: expect.any(String), detail: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toContain('ppt_unknown');
    }
  });

  it('echoes X-Request-Id and generates one when absent', async () => {
    const res = await request(system.baseUrl).get('/health').set('X-Request-Id', 'req-abc-123');
    expect(res.headers['x-request-id']).toBe('req-abc-123');
    const generated = await request(system.baseUrl).get('/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves OpenAPI at /docs-json and /docs, and Prometheus metrics at /metrics on the metrics port (not the public one)', async () => {
    const spec = await request(system.baseUrl).get('/docs-json').expect(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.body.paths)).toContain('/api/v1/me');
    await request(system.baseUrl).get('/docs').expect(200);
    const metrics = await request(system.metricsUrl).get('/metrics').expect(200);
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
    await request(system.baseUrl).get('/metrics').expect(404);
  });

  it('the bootstrap events reach the audit log through JetStream and can be read back with a NATS query', async () => {
    const entries = await eventually(
      async () => {
        const { items } = await natsQuery<{ items: AuditEntry[] }>(nc, AuditLogSubjects.listEntries(), { organizationId: null });
        return items.length >= 2 ? items : undefined;
      },
      15_000,
      'audit entries of the bootstrap',
    );
    expect(entries.map((e) => [e.resource, e.operation, e.actor.id])).toEqual(
      expect.arrayContaining([
        ['User', 'Added', 'system'],
        ['User', 'Modified', 'system'],
      ]),
    );
    expect(JSON.stringify(entries)).not.toContain(BOOTSTRAP_TOKEN);
  });

  it('BOOTSTRAP_ORG_NAME creates the organization owned by the bootstrap admin, and it is audited in it', async () => {
    const me = await request(system.baseUrl).get('/api/v1/me').set('Authorization', `Bearer ${BOOTSTRAP_TOKEN}`).expect(200);
    const created = await eventually(async () => (await publishedEvents(nc)).find((e) => e.type === 'organization.created'));
    expect(created.data).toEqual({ organizationId: created.organizationId, name: 'Acme Corp', slug: 'acme-corp', ownerId: me.body.id });
    const entries = await eventually(async () => {
      const { items } = await natsQuery<{ items: AuditEntry[] }>(nc, AuditLogSubjects.listEntries(), { organizationId: created.organizationId });
      return items.length ? items : undefined;
    });
    expect(entries).toEqual([
      expect.objectContaining({ resource: 'Organization', operation: 'Added', resourceName: 'Acme Corp', organizationId: created.organizationId }),
    ]);
  });

  it('bootstrap is idempotent across restarts: identity restarted creates no second user', async () => {
    await system.stopService('identity');
    await system.stopService('membership');
    await system.startService('identity');
    await system.startService('membership');
    await request(system.baseUrl).get('/api/v1/me').set('Authorization', `Bearer ${BOOTSTRAP_TOKEN}`).expect(200);
    const events = await publishedEvents(nc);
    expect(events.filter((e) => e.type === 'user.created')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'organization.created')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(BOOTSTRAP_TOKEN);
  });
});
