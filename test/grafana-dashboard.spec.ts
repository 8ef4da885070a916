import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** Every .ts source under dir but tests. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(entry) && !/spec\.ts$/.test(entry) ? [path] : [];
  });
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

/** deploy/grafana/people-platform.json: it parses, and every metric its queries use is one the code registers. */
describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/people-platform.json'), 'utf8')) as { uid: string; panels: Panel[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const registered = new Set(
    [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))].flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/name: '([a-z_]+)'/g)].map((m) => m[1]),
    ),
  );
  /** the metric families a query reads (histogram series by their family name) */
  const metricsOf = (expr: string) =>
    [...expr.matchAll(/([a-z_]+)\{/g)].map((m) => m[1]).map((name) => name.replace(/_(bucket|count|sum)$/, (suffix) => (registered.has(name) ? suffix : '')));

  it('has a panel for each of: request rate, error ratio and p99 per route; NATS p99; outbox backlog and age; projection lag; dead letters; logins', () => {
    const used = new Set(exprs.flatMap(metricsOf));
    for (const family of [
      'http_requests_total',
      'http_request_duration_seconds',
      'nats_request_duration_seconds',
      'outbox_backlog_commits',
      'outbox_oldest_unpublished_age_seconds',
      'projection_lag_events',
      'projection_lag_seconds',
      'dead_letter_events_total',
      'login_failures_total',
      'login_lockouts_total',
    ])
      expect([family, used.has(family)]).toEqual([family, true]);
    expect(exprs.some((e) => e.startsWith('histogram_quantile(0.99') && e.includes('http_request_duration_seconds_bucket') && e.includes('route'))).toBe(true);
    expect(exprs.some((e) => e.startsWith('histogram_quantile(0.99') && e.includes('nats_request_duration_seconds_bucket') && e.includes('subject'))).toBe(
      true,
    );
  });

  it('queries only metrics the services register', () => {
    const unknown = exprs.flatMap(metricsOf).filter((name) => !registered.has(name));
    expect(unknown).toEqual([]);
  });
});
