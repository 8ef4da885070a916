import Fastify from 'fastify';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '@app/platform';
import { observeHttpRequests, recordHttpRequests, routeLabel, statusClass } from './http-metrics';

/** A registry's exposition as a sorted list of samples, each with its labels in name order. */
async function samples(registry: Registry): Promise<string[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics
    .flatMap((m) =>
      m.values.map((v) => {
        const labels = Object.entries(v.labels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, l]) => `${k}=${String(l)}`);
        return `${(v as { metricName?: string }).metricName ?? m.name}{${labels.join(',')}} ${v.value}`;
      }),
    )
    .sort();
}

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

  it("exposes what prom-client's own Counter and Histogram would, for any requests", async () => {
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT'),
      route: fc.constantFrom('/health', '/api/v1/me', 'unmatched'),
      status: fc.constantFrom(200, 201, 204, 400, 404, 409, 503),
      seconds: fc.oneof(fc.double({ min: 0, max: 20, noNaN: true }), fc.constantFrom(...LATENCY_BUCKETS)),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { maxLength: 60 }), async (requests) => {
        const ours = new Registry();
        const theirs = new Registry();
        ours.setDefaultLabels({ service: 'gateway' });
        theirs.setDefaultLabels({ service: 'gateway' });
        const record = recordHttpRequests(ours);
        const counter = new Counter({ name: 'http_requests_total', help: 'h', labelNames: ['method', 'route', 'status_class'], registers: [theirs] });
        const histogram = new Histogram({
          name: 'http_request_duration_seconds',
          help: 'h',
          labelNames: ['method', 'route'],
          buckets: LATENCY_BUCKETS,
          registers: [theirs],
        });
        for (const r of requests) {
          record(r.method, r.route, r.status, r.seconds);
          counter.inc({ method: r.method, route: r.route, status_class: statusClass(r.status) });
          histogram.observe({ method: r.method, route: r.route }, r.seconds);
        }
        expect(await samples(ours)).toEqual(await samples(theirs));
        // the text format's type lines too
        const types = (text: string) => text.split('\n').filter((line) => line.startsWith('# TYPE'));
        expect(types(await ours.metrics())).toEqual(types(await theirs.metrics()));
      }),
      { numRuns: 200 },
    );
  });

  it('groups statuses by class', () => {
    expect([200, 201, 304, 401, 429, 500, 503].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx']);
  });
});
