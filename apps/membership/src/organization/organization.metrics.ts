import { Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '@app/platform';

/**
 * Where an organization command's time goes (docs/membership.md "Where a role change's time goes"):
 * per command `queued` (waiting for the organization's earlier batches), `decide` and `command` (from the call
 * to its answer); per batch `load`, `lookup` (the command ids, in parallel), `input` (the custom roles),
 * `copy` (the state the later commands are decided on), `append` (the one insert), `markers`, `snapshot`,
 * `publish` (the wait for JetStream's ack, only for a batch that may revoke access), `confirm` (the read that
 * tells whether a cached state a refusal or no-op was decided on is still current) and `batch` (all of it).
 */
export type OrganizationPhase =
  | 'queued'
  | 'load'
  | 'lookup'
  | 'input'
  | 'copy'
  | 'decide'
  | 'append'
  | 'markers'
  | 'snapshot'
  | 'publish'
  | 'confirm'
  | 'batch'
  | 'command';

/** The sink the organization runner reports to (it imports no registry). */
export interface OrganizationMetrics {
  phase(phase: OrganizationPhase, seconds: number): void;
  /** the number of commands of one group commit */
  batch(commands: number): void;
}

const byRegistry = new WeakMap<Registry, OrganizationMetrics>();

/**
 * `membership_organization_command_phase_seconds{phase}` and `membership_organization_batch_commands` in a
 * process's registry (created once per registry).
 */
export function organizationMetrics(registry: Registry): OrganizationMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    const phases = new Histogram({
      name: 'membership_organization_command_phase_seconds',
      help: 'time of each step of organization commands (queued, decide, command: per command; the others per group commit)',
      labelNames: ['phase'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    const sizes = new Histogram({
      name: 'membership_organization_batch_commands',
      help: 'commands of one organization decided and appended together (one group commit)',
      buckets: [1, 2, 4, 8, 16, 32],
      registers: [registry],
    });
    metrics = { phase: (phase, seconds) => phases.observe({ phase }, seconds), batch: (n) => sizes.observe(n) };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

/** Runs `fn` and reports its time as `phase` (when there is a sink). */
export async function timed<T>(metrics: OrganizationMetrics | undefined, phase: OrganizationPhase, fn: () => Promise<T>): Promise<T> {
  if (!metrics) return fn();
  const began = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    metrics.phase(phase, Number(process.hrtime.bigint() - began) / 1e9);
  }
}
