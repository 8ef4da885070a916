import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { JSONCodec, type NatsConnection } from 'nats';
import { eventMetadata, eventsStreamName, evtSubject, systemMeta } from '@app/contracts';
import { testNats, testNaming, testPrefix } from '@app/testing';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/** One sample of a Prometheus text exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line)!;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

/** The sum of the samples of `name` whose labels include `labels`. */
const total = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
const present = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/**
 * The metrics of docs/operations.md "Metrics" after some traffic: the gateway's on its metrics port
 * (METRICS_PORT; `/metrics` on the public port is a 404), the services' from their registries (what their
 * HTTP_PORT serves).
 */
describe('metrics (METRICS_PORT, per-route HTTP, NATS requests, outbox, projections, dead letters, logins)', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  const admin = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  let orgId = '';

  beforeAll(async () => {
    system = await startSystem();
    nc = await testNats();
    const http = request(system.baseUrl);
    await http.get('/api/v1/me').set(admin).expect(200);
    await http.get('/api/v1/me').expect(401);
    // a write through membership's outbox, read back from the in-memory people view (read-your-writes)
    orgId = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Metrics Inc' }).expect(201)).body.id;
    await http.get(`/api/v1/organizations/${orgId}/people`).set(admin).expect(200);
    // 6 failures block the login from this address (5 are free), the 7th attempt is refused without a check
    for (let i = 0; i < 6; i++)
      await http
        .post('/api/v1/auth/login')
        .send({ login: 'nobody-here', password: `wrong password ${i}` })
        .expect(401);
    await http.post('/api/v1/auth/login').send({ login: 'nobody-here', password: 'wrong password 7' }).expect(429);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  const gatewayMetrics = async () =>
    parse(
      (
        await request(system.metricsUrl)
          .get('/metrics')
          .expect(200)
          .expect('Content-Type', /text\/plain/)
      ).text,
    );
  const serviceMetrics = async (name: string) => parse(await system.services[name].infra.metrics.metrics());

  it('serves /metrics on the metrics port only: the public port answers 404 problem+json', async () => {
    const res = await request(system.baseUrl).get('/metrics').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.text).not.toContain('process_cpu_user_seconds_total');
    await request(system.metricsUrl).get('/health').expect(404);
  });

  it('a METRICS_PORT in use stops the gateway with a message naming it', async () => {
    const taken = new URL(system.metricsUrl).port;
    await expect(system.addGateway({ METRICS_PORT: taken })).rejects.toThrow(`METRICS_PORT ${taken} is already in use`);
  });

  it('counts HTTP requests per route pattern and status class, with latency, never the raw URL', async () => {
    const samples = await gatewayMetrics();
    const people = { route: '/api/v1/organizations/:org/people', method: 'GET' };
    expect(total(samples, 'http_requests_total', { ...people, status_class: '2xx', service: 'gateway' })).toBeGreaterThanOrEqual(1);
    expect(total(samples, 'http_request_duration_seconds_count', people)).toBeGreaterThanOrEqual(1);
    expect(total(samples, 'http_request_duration_seconds_sum', people)).toBeGreaterThan(0);
    expect(total(samples, 'http_requests_total', { route: '/api/v1/me', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(total(samples, 'http_requests_total', { route: '/api/v1/auth/login', status_class: '4xx' })).toBe(7);
    // the public /metrics request above: no route
    expect(total(samples, 'http_requests_total', { route: 'unmatched', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes(orgId)))).toBe(false);
  });

  it("says whether the gateway holds its read lease (GET /me and the check without a look-up of the stream's end)", async () => {
    expect(total(await gatewayMetrics(), 'gateway_read_lease_held', { service: 'gateway' })).toBe(1);
  });

  it('times NATS requests per subject, without the namespace prefix or ids', async () => {
    const samples = await gatewayMetrics();
    expect(total(samples, 'nats_request_duration_seconds_count', { subject: 'qry.authorization.org-access', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(total(samples, 'nats_request_duration_seconds_count', { subject: 'cmd.identity.session.login', outcome: 'error' })).toBe(7);
    const prefix = testPrefix();
    expect(prefix).not.toBe('');
    const subjects = samples.filter((s) => s.name === 'nats_request_duration_seconds_count').map((s) => s.labels.subject);
    expect(subjects.length).toBeGreaterThan(0);
    for (const subject of subjects) expect(subject).toMatch(/^(cmd|qry)\.[a-z-]+\.[a-z.-]+$/);
    // services time their own requests to other services too (membership asks identity and authorization)
    const membership = await serviceMetrics('membership');
    expect(total(membership, 'nats_request_duration_seconds_count', { service: 'membership' })).toBeGreaterThanOrEqual(1);
  });

  it('times the steps of organization commands (membership): per command, per batch, and the JetStream wait of a new organization', async () => {
    const membership = await serviceMetrics('membership');
    const phase = (p: string) => total(membership, 'membership_organization_command_phase_seconds_count', { service: 'membership', phase: p });
    for (const p of ['queued', 'command', 'batch', 'decide', 'append', 'markers', 'publish']) expect(phase(p)).toBeGreaterThanOrEqual(1);
    expect(total(membership, 'membership_organization_command_phase_seconds_sum', { phase: 'command' })).toBeGreaterThan(0);
    expect(total(membership, 'membership_organization_batch_commands_count', { service: 'membership' })).toBeGreaterThanOrEqual(1);
  });

  it('counts login failures and lock-outs (identity)', async () => {
    const identity = await serviceMetrics('identity');
    expect(total(identity, 'login_failures_total', { service: 'identity' })).toBe(6);
    expect(total(identity, 'login_lockouts_total', { service: 'identity' })).toBe(1);
  });

  it('reports the outbox backlog of every service (none once published) and the projections’ lag and position', async () => {
    for (const name of ['identity', 'membership', 'authorization', 'audit-log']) {
      const samples = await serviceMetrics(name);
      expect(total(samples, 'outbox_backlog_commits', { service: name })).toBe(0);
      expect(present(samples, 'outbox_oldest_unpublished_age_seconds', { service: name })).toBe(true);
    }
    const membership = await serviceMetrics('membership');
    expect(total(membership, 'projection_applied_sequence', { projection: 'membership-people' })).toBeGreaterThan(0);
    expect(present(membership, 'projection_lag_events', { projection: 'membership-people' })).toBe(true);
    expect(present(membership, 'projection_lag_seconds', { projection: 'membership-people' })).toBe(true);
    const others: Array<[string, string]> = [
      ['identity', 'identity-users'],
      ['authorization', 'authorization-view'],
      ['audit-log', 'audit-log'],
    ];
    for (const [service, projection] of others) {
      const samples = await eventually(async () => {
        const s = await serviceMetrics(service);
        return total(s, 'projection_applied_sequence', { projection }) > 0 && s;
      });
      expect(total(samples, 'projection_lag_events', { projection })).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts dead letters per projection', async () => {
    // an event no catalogue knows: the audit log cannot map it and dead-letters it (the others skip it)
    const id = randomUUID();
    const poison = {
      id,
      type: 'user.metrics-probe',
      version: 1,
      streamId: `probe-${id}`,
      streamVersion: 1,
      service: 'identity',
      occurredAt: new Date().toISOString(),
      data: {},
      metadata: { ...eventMetadata(systemMeta(id)), causationId: id },
    };
    const ack = await nc.jetstream().publish(testNaming().subject(evtSubject('identity', poison.type, 1)), JSONCodec().encode(poison), { msgID: id });
    try {
      await eventually(
        async () => total(await serviceMetrics('audit-log'), 'dead_letter_events_total', { projection: 'audit-log' }) >= 1,
        20_000,
        'a dead letter',
      );
    } finally {
      // not left for the contract check at the end of the file
      await (await nc.jetstreamManager()).streams.deleteMessage(eventsStreamName(testNaming()), ack.seq);
    }
  });
});
