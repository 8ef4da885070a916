import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '@app/platform';

/** What a request was routed to: the route's pattern (`/api/v1/organizations/:organizationId/people`), never the raw URL. */
export const routeLabel = (request: Pick<FastifyRequest, 'routeOptions'>): string => request.routeOptions?.url ?? 'unmatched';

/** `2xx` … `5xx`. */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/**
 * Per route: `http_requests_total{method,route,status_class}` (errors are the 4xx and 5xx classes) and
 * `http_request_duration_seconds{method,route}`, counted when the answer has been sent (Fastify's `onResponse`).
 * Labels are bounded: a route pattern, or `unmatched` for a path no route has.
 */
export function observeHttpRequests(fastify: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status class',
    labelNames: ['method', 'route', 'status_class'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'time from receiving an HTTP request to sending its answer, by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = { method: request.method, route: routeLabel(request) };
    requests.inc({ ...labels, status_class: statusClass(reply.statusCode) });
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
