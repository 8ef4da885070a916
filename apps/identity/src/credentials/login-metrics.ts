import { Counter, type Registry } from 'prom-client';
import type { LoginMetrics } from './login-throttle';

const byRegistry = new WeakMap<Registry, LoginMetrics>();

/** The login throttle's counters in a process's registry (created once per registry). */
export function loginMetrics(registry: Registry): LoginMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    const failures = new Counter({
      name: 'login_failures_total',
      help: 'password checks that failed (unknown login, no password, wrong password), counted by the login throttle',
      registers: [registry],
    });
    const lockouts = new Counter({
      name: 'login_lockouts_total',
      help: 'password checks refused with RATE_LIMITED because the login and IP (or the IP) are blocked after repeated failures',
      registers: [registry],
    });
    metrics = { failure: () => failures.inc(), lockedOut: () => lockouts.inc() };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
