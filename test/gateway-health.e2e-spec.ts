import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadConfig } from '@app/platform';
import { findBinary, freePort, serviceTestEnv, startNatsServer, type LocalServer } from '@app/testing';
import { createGatewayApp } from '../apps/gateway/src/gateway.app';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/**
 * The gateway's readiness is its own (docs/operations.md "Health"): a backend down makes the routes that need
 * it answer 503 and shows in `/health/ready`, but keeps the gateway in rotation; only the gateway's own
 * NATS connection makes it not ready.
 */
describe('gateway health: readiness is the gateway’s own, backends are reported apart', () => {
  describe('a backend down', () => {
    let system: RunningSystem;
    const auth = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };

    beforeAll(async () => {
      system = await startSystem({ BOOTSTRAP_ORG_NAME: 'Health Corp' });
    });
    afterAll(async () => system?.close());

    it('all up: /health/serving and /health/ready 200', async () => {
      const http = request(system.baseUrl);
      await http.get('/health/serving').expect(200, { status: 'ready', checks: { nats: 'up' } });
      await http.get('/health/ready').expect(200, {
        status: 'up',
        checks: { nats: 'up', identity: 'up', membership: 'up', authorization: 'up', 'audit-log': 'up' },
      });
    });

    it('audit-log stopped: the gateway stays ready and serves, its routes answer 503, /health/ready names it', async () => {
      const http = request(system.baseUrl);
      const org = (await http.get('/api/v1/organizations').set(auth).expect(200)).body.items[0].id as string;
      await system.stopService('audit-log');
      try {
        await http.get('/health/serving').expect(200);
        const services = await http.get('/health/ready');
        expect([services.status, services.body]).toEqual([
          503,
          { status: 'degraded', checks: { nats: 'up', identity: 'up', membership: 'up', authorization: 'up', 'audit-log': 'down' } },
        ]);
        await http.get('/api/v1/me').set(auth).expect(200);
        const audit = await http.get(`/api/v1/organizations/${org}/audit-logs`).set(auth);
        expect([audit.status, audit.body.code, audit.headers['content-type']]).toEqual([
          503,
          'SERVICE_UNAVAILABLE',
          expect.stringMatching(/^application\/problem\+json/),
        ]);
      } finally {
        await system.startService('audit-log');
      }
      await http.get('/health/ready').expect(200);
    });

    it('stopped by a signal: readiness answers 503 at once while requests are served for the grace period, then the port closes', async () => {
      const gateway = await createGatewayApp(
        loadConfig('gateway', { ...serviceTestEnv('gateway'), GATEWAY_PORT: '0', METRICS_PORT: String(await freePort()), SHUTDOWN_GRACE_SECONDS: '2' }),
      );
      await gateway.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${(gateway.getHttpServer().address() as { port: number }).port}`;
      await request(url).get('/health/serving').expect(200);
      const closed = (gateway as unknown as { close(signal: string): Promise<void> }).close('SIGTERM'); // as Nest's shutdown hook calls it on a signal
      await new Promise((r) => setTimeout(r, 200));
      await request(url).get('/health/serving').expect(503);
      expect((await request(url).get('/health/ready')).status).toBe(503);
      await request(url).get('/api/v1/me').set(auth).expect(200);
      await closed;
      await expect(request(url).get('/health')).rejects.toThrow(/ECONNREFUSED/);
    });
  });

  describe('its NATS connection down', () => {
    const bin = findBinary('nats-server', [process.env.NATS_SERVER_BIN]);
    const storeDir = mkdtempSync(join(tmpdir(), 'nats-gateway-health-'));
    let nats: LocalServer & { port: number };
    let gateway: INestApplication;

    beforeAll(async () => {
      if (!bin) throw new Error('this test stops and restarts a broker: it needs the nats-server binary (PATH, /usr/sbin, or NATS_SERVER_BIN)');
      nats = await startNatsServer(bin, storeDir);
      gateway = await createGatewayApp(
        loadConfig('gateway', { ...serviceTestEnv('gateway'), NATS_URL: nats.url, GATEWAY_PORT: '0', METRICS_PORT: String(await freePort()) }),
      );
      await gateway.listen(0, '127.0.0.1');
    });
    afterAll(async () => {
      await gateway?.close();
      await nats?.stop();
      rmSync(storeDir, { recursive: true, force: true });
    });

    it('not ready (503) while its broker is down, alive throughout, ready again once it is back', async () => {
      const http = request(gateway.getHttpServer());
      await http.get('/health/serving').expect(200);

      await nats.stop();
      const stoppedAt = Date.now();
      const down = await eventually(
        async () => {
          const res = await http.get('/health/serving');
          return res.status === 503 && res;
        },
        10_000,
        'readiness 503 with the broker down',
      );
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
      expect(down.body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'not ready: the NATS connection is down' });
      await http.get('/health').expect(200);
      expect((await http.get('/health/ready')).body.checks.nats).toBe('down');

      nats = await startNatsServer(bin!, storeDir, nats.port);
      await eventually(async () => (await http.get('/health/serving')).status === 200, 15_000, 'readiness after the broker restart');
    }, 40_000);
  });
});
