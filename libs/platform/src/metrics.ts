import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceName } from '@app/contracts';
import type { ConsumerLag, ConsumerMetrics } from '@app/event-store';
import type { RpcMetrics } from '@app/messaging';

/** Latency buckets (seconds) of HTTP requests and NATS requests: 2.5 ms to 10 s. */
export const LATENCY_BUCKETS = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics of one process (docs/operations.md "Metrics"): one registry, every series labelled `service`,
 * the process defaults, and the sinks the libraries report to (they import no registry): NATS requests
 * (`rpc`), consumers' lag (`consumers`), dead letters.
 */
export interface ProcessMetrics {
  registry: Registry;
  rpc: RpcMetrics;
  consumers: ConsumerMetrics;
  deadLetters: Counter<'projection'>;
}

export function createProcessMetrics(service: ServiceName): ProcessMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  const rpcDuration = new Histogram({
    name: 'nats_request_duration_seconds',
    help: 'NATS requests this process sent to a service, by subject (no namespace, no ids) and outcome (ok, error reply, unavailable: nothing done, unknown: a command unanswered)',
    labelNames: ['subject', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  const watched = new Map<string, () => ConsumerLag>();
  const lagGauge = ({ name, help }: { name: string; help: string }, value: (lag: ConsumerLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['projection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [projection, lag] of watched) this.set({ projection }, value(lag()));
      },
    });
  lagGauge({ name: 'projection_lag_events', help: 'events of the stream a projection (consumer) has not applied yet' }, (lag) => lag.events);
  lagGauge(
    { name: 'projection_lag_seconds', help: 'age of the oldest event a projection has received and not applied yet (0: caught up)' },
    (lag) => lag.seconds,
  );
  lagGauge({ name: 'projection_applied_sequence', help: 'last events-stream sequence a projection has applied in this process' }, (lag) => lag.applied);

  return {
    registry,
    rpc: { observe: (subject, seconds, outcome) => rpcDuration.observe({ subject, outcome }, seconds) },
    consumers: {
      watch(name, lag) {
        watched.set(name, lag);
        return () => {
          if (watched.get(name) === lag) watched.delete(name);
        };
      },
    },
    deadLetters: new Counter({
      name: 'dead_letter_events_total',
      help: 'events sent to the dead-letter subject after repeated failures',
      labelNames: ['projection'],
      registers: [registry],
    }),
  };
}

/** The outbox relay's backlog as gauges, read from the relay (no query) on each scrape. */
export function outboxGauges(registry: Registry, backlog: () => { commits: number; oldestCommittedAt?: Date }): void {
  new Gauge({
    name: 'outbox_backlog_commits',
    help: 'commits appended by this process (or found by its sweep) that JetStream has not acknowledged yet',
    registers: [registry],
    collect() {
      this.set(backlog().commits);
    },
  });
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'age of the oldest commit in the outbox backlog (0: none)',
    registers: [registry],
    collect() {
      const oldest = backlog().oldestCommittedAt;
      this.set(oldest ? Math.max(0, Date.now() - oldest.getTime()) / 1000 : 0);
    },
  });
}
