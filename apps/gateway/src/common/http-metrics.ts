import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metric, MetricValue, Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '@app/platform';

/** What a request was routed to: the route's pattern (`/api/v1/organizations/:organizationId/people`), never the raw URL. */
export const routeLabel = (request: Pick<FastifyRequest, 'routeOptions'>): string => request.routeOptions?.url ?? 'unmatched';

/** `2xx` … `5xx`. */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/** One method and route pattern: answers by status class, and the latency histogram's counts (per bucket, not cumulative). */
interface RouteStats {
  labels: { method: string; route: string };
  answers: Record<string, number>;
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * Per route: `http_requests_total{method,route,status_class}` (errors are the 4xx and 5xx classes) and
 * `http_request_duration_seconds{method,route}`, counted when the answer has been sent (Fastify's `onResponse`).
 * Labels are bounded: a route pattern, or `unmatched` for a path no route has.
 */
export function observeHttpRequests(fastify: FastifyInstance, registry: Registry): void {
  const record = recordHttpRequests(registry);
  fastify.addHook('onResponse', (request, reply, done) => {
    record(request.method, routeLabel(request), reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * The two metrics as plain numbers per method and route, turned into prom-client's shape when scraped.
 * prom-client's own Counter and Histogram sort and hash their labels on every observation: 1–5 µs per request
 * here, a few percent of a permission check. This costs two map look-ups and a few additions. Its exposition is
 * the same as theirs (http-metrics.spec.ts compares both on random requests).
 */
export function recordHttpRequests(registry: Registry, buckets: readonly number[] = LATENCY_BUCKETS) {
  const byMethod = new Map<string, Map<string, RouteStats>>();
  const all = () => [...byMethod.values()].flatMap((routes) => [...routes.values()]);
  const metric = (family: { name: string; help: string; type: 'counter' | 'histogram' }, values: () => MetricValue<string>[]) =>
    registry.registerMetric({
      ...family,
      aggregator: 'sum',
      get: async () => ({ ...family, aggregator: 'sum', values: values() }),
      reset: () => byMethod.clear(),
    } as unknown as Metric);

  metric({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route pattern and status class', type: 'counter' }, () =>
    all().flatMap((s) => Object.entries(s.answers).map(([status_class, value]) => ({ labels: { ...s.labels, status_class }, value }))),
  );
  metric(
    {
      name: 'http_request_duration_seconds',
      help: 'time from receiving an HTTP request to sending its answer, by method and route pattern',
      type: 'histogram',
    },
    () =>
      all().flatMap((s) => {
        let below = 0;
        const bucket = (le: number | string, value: number) => ({ labels: { ...s.labels, le }, value, metricName: 'http_request_duration_seconds_bucket' });
        return [
          ...buckets.map((le, i) => bucket(le, (below += s.buckets[i]))),
          bucket('+Inf', s.count),
          { labels: s.labels, value: s.sum, metricName: 'http_request_duration_seconds_sum' },
          { labels: s.labels, value: s.count, metricName: 'http_request_duration_seconds_count' },
        ];
      }),
  );

  return (method: string, route: string, status: number, seconds: number): void => {
    let routes = byMethod.get(method);
    if (!routes) byMethod.set(method, (routes = new Map()));
    let s = routes.get(route);
    if (!s) routes.set(route, (s = { labels: { method, route }, answers: {}, buckets: buckets.map(() => 0), sum: 0, count: 0 }));
    const status_class = statusClass(status);
    s.answers[status_class] = (s.answers[status_class] ?? 0) + 1;
    s.sum += seconds;
    s.count++;
    const i = buckets.findIndex((le) => seconds <= le);
    if (i >= 0) s.buckets[i]++;
  };
}
