import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { checkContractAndCleanUp, findBinary, startNatsServer, type LocalServer } from '@app/testing';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/**
 * Faults through the whole system (ARCHITECTURE.md: "a service restarting, the broker down, a redelivered
 * event lose nothing and duplicate nothing"). This file has its own nats-server (fixed port and store
 * directory) so that it can stop the broker and start it again with its JetStream data, as a restart in
 * production does, without disturbing the other test files.
 */
describe('faults: a service down, the broker restarted', () => {
  const bin = findBinary('nats-server', [process.env.NATS_SERVER_BIN]);
  const storeDir = mkdtempSync(join(tmpdir(), 'nats-faults-'));
  const sharedNatsUrl = process.env.NATS_URL;
  let nats: LocalServer & { port: number };
  let system: RunningSystem;
  let http: ReturnType<typeof request>;
  const auth = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };

  beforeAll(async () => {
    if (!bin) throw new Error('test/faults.e2e-spec.ts stops and restarts the broker: it needs the nats-server binary (PATH, /usr/sbin, or NATS_SERVER_BIN)');
    nats = await startNatsServer(bin, storeDir);
    process.env.NATS_URL = nats.url;
    system = await startSystem({ SERVICE_REQUEST_TIMEOUT_MS: '1500' });
    http = request(system.baseUrl);
  });
  afterAll(async () => {
    await system?.close();
    // the contract check of this file's events, while NATS_URL still names the broker that holds them
    await checkContractAndCleanUp();
    await nats?.stop();
    process.env.NATS_URL = sharedNatsUrl;
    rmSync(storeDir, { recursive: true, force: true });
  });

  const entriesOf = async (org: string) => {
    const items: Array<{ resource: string; operation: string; resourceName: string }> = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await http
        .get(`/api/v1/organizations/${org}/audit-logs`)
        .query(cursor ? { cursor, limit: 500 } : { limit: 500 })
        .set(auth)
        .expect(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items.map((e) => `${e.resource} ${e.operation} ${e.resourceName}`).sort();
  };

  it('a service that is down gives 503 SERVICE_UNAVAILABLE and changes nothing; the same request once it is back applies once', async () => {
    await system.stopService('membership');
    const started = Date.now();
    const down = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', 'faults-org-1').send({ name: 'Down Corp', slug: 'down-corp' });
    expect(down.status).toBe(503);
    expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(down.body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5000);
    // the other services still answer; the gateway stays ready, /health/ready says which one is missing
    await http.get('/api/v1/me').set(auth).expect(200);
    await http.get('/health/serving').expect(200);
    expect((await http.get('/health/ready')).body.checks.membership).toBe('down');

    await system.startService('membership');
    const first = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', 'faults-org-1').send({ name: 'Down Corp', slug: 'down-corp' });
    expect(first.status).toBe(201);
    const again = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', 'faults-org-1').send({ name: 'Down Corp', slug: 'down-corp' });
    expect([again.status, again.body]).toEqual([201, first.body]);
    const mine = await http.get('/api/v1/organizations').set(auth).query({ limit: 500 }).expect(200);
    expect(mine.body.items.filter((o: { slug: string }) => o.slug === 'down-corp')).toHaveLength(1);
    expect(await eventually(async () => (await entriesOf(first.body.id)).length === 1 && entriesOf(first.body.id), 15_000, 'the audit entry')).toEqual([
      'Organization Added Down Corp',
    ]);
  });

  it('after the broker restarts, requests, projections and the authorization view carry on: nothing lost, nothing twice', async () => {
    const org = (await http.post('/api/v1/organizations').set(auth).send({ name: 'Restart Corp', slug: 'restart-corp' }).expect(201)).body.id as string;
    // writes right before the stop: the projections are still applying them when the broker goes away, so
    // some acks are lost with the connection and JetStream delivers those events again after the restart
    const before = Array.from({ length: 8 }, (_, i) => `before-${i}`);
    for (const name of before) await http.post(`/api/v1/organizations/${org}/groups`).set(auth).send({ name, description: '', memberIds: [] }).expect(201);

    await nats.stop();
    const stoppedAt = Date.now();
    const during = await http.post(`/api/v1/organizations/${org}/groups`).set(auth).send({ name: 'during', description: '', memberIds: [] });
    expect(during.status).toBe(503);
    expect(during.body.code).toBe('SERVICE_UNAVAILABLE');
    // down long enough for the consumers' heartbeats to be missed (ordered consumers then recreate themselves)
    await new Promise((r) => setTimeout(r, Math.max(0, 8000 - (Date.now() - stoppedAt))));
    nats = await startNatsServer(bin!, storeDir, nats.port);
    await eventually(async () => (await http.get('/health/ready')).status === 200, 30_000, 'every service back after the broker restart');
    const recovered = Date.now();

    // a write through membership, one through authorization, each read back through the permission guard;
    // the read models catch up within seconds (a lost ack costs the projection one ack wait: 5 s)
    await http.post(`/api/v1/organizations/${org}/groups`).set(auth).send({ name: 'after', description: '', memberIds: [] }).expect(201);
    const role = await http
      .post(`/api/v1/organizations/${org}/roles`)
      .set(auth)
      .send({ name: 'Auditor', description: 'reads the log', scope: 'organization', permissions: ['organization.view', 'organization.audit_logs.view'] })
      .expect(201);
    await http.get(`/api/v1/organizations/${org}/roles/${role.body.id}`).set(auth).expect(200);
    const groups = await eventually(
      async () => {
        const res = await http.get(`/api/v1/organizations/${org}/people`).set(auth).query({ type: 'group', limit: 500 });
        return res.status === 200 && (res.body.items as Array<{ name: string }>).map((g) => g.name).sort();
      },
      10_000,
      'the people list after the restart',
    );
    expect(groups).toEqual([...before, 'after'].sort());
    expect(Date.now() - recovered).toBeLessThan(10_000);

    const expected = [...[...before, 'after'].map((g) => `Group Added ${g}`), 'Organization Added Restart Corp', 'Role Added Auditor'].sort();
    expect(await eventually(async () => (await entriesOf(org)).length >= expected.length && entriesOf(org), 20_000, 'the entries after the restart')).toEqual(
      expected,
    );
  });
});
