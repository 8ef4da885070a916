import { freePort } from '@app/testing';
import { serveHealth } from './health-server';

describe('the early health port', () => {
  it("as the gateway's public port (api): an API request before the gateway serves is 503 SERVICE_UNAVAILABLE, retryable", async () => {
    const health = await serveHealth('gateway', await freePort(), { host: '127.0.0.1', api: true });
    try {
      const base = `http://127.0.0.1:${health.port}`;
      for (const method of ['POST', 'GET']) {
        const res = await fetch(`${base}/api/v1/organizations`, { method, body: method === 'POST' ? '{}' : undefined });
        expect([res.status, res.headers.get('content-type'), res.headers.get('retry-after')]).toEqual([503, 'application/problem+json', '1']);
        expect(await res.json()).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      }
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    } finally {
      await health.close();
    }
  });

  it("a service's health port (no api) keeps its answers: 405 for a write, 404 elsewhere", async () => {
    const health = await serveHealth('identity', await freePort(), { host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${health.port}`;
      expect((await fetch(`${base}/api/v1/organizations`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${base}/api/v1/organizations`)).status).toBe(404);
    } finally {
      await health.close();
    }
  });
});
