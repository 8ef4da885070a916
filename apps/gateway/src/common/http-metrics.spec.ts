import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { observeHttpRequests, routeLabel, statusClass } from './http-metrics';

describe('per-route HTTP metrics', () => {
  it('labels a request with its route pattern, not the raw URL; a path no route has is `unmatched`', async () => {
    const registry = new Registry();
    const fastify = Fastify();
    observeHttpRequests(fastify, registry);
    const seen: string[] = [];
    fastify.get('/api/v1/organizations/:organizationId/people', async (request) => {
      seen.push(routeLabel(request));
      return [];
    });
    fastify.post('/api/v1/organizations', async (_request, reply) => reply.code(409).send({}));
    const orgId = '5b0a7c8e-2f8e-4c1b-9d6a-0e3f4a5b6c7d';
    await fastify.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/people?limit=5` });
    await fastify.inject({ method: 'GET', url: '/api/v1/organizations/another-id/people' });
    await fastify.inject({ method: 'POST', url: '/api/v1/organizations' });
    await fastify.inject({ method: 'GET', url: `/api/v1/nothing/${orgId}` });
    await fastify.close();

    expect(seen).toEqual(['/api/v1/organizations/:organizationId/people', '/api/v1/organizations/:organizationId/people']);
    const text = await registry.metrics();
    expect(text).toContain('http_requests_total{method="GET",route="/api/v1/organizations/:organizationId/people",status_class="2xx"} 2');
    expect(text).toContain('http_requests_total{method="POST",route="/api/v1/organizations",status_class="4xx"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status_class="4xx"} 1');
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/api/v1/organizations/:organizationId/people"} 2');
    expect(text).not.toContain(orgId);
    expect(text).not.toContain('another-id');
  });

  it('groups statuses by class', () => {
    expect([200, 201, 304, 401, 429, 500, 503].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx']);
  });
});
