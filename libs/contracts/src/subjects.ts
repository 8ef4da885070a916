/**
 * Every NATS subject and JetStream name is built here, never typed by hand.
 *
 * Subjects are the same in every installation: `evt.<service>.<type>.v<N>`, `cmd.<service>.<aggregate>.<verb-noun>`,
 * `qry.<service>.<query>`, `dlq.<consumer>`. An installation that shares a NATS server with others is namespaced by
 * a subject prefix (`NATS_SUBJECT_PREFIX` of the service's configuration; empty in production, one per file in
 * the tests). The prefix is never read here: it is applied at the wire by whoever holds the configuration, through
 * a `Naming` (`subjectNaming(config.NATS_SUBJECT_PREFIX)`) — the NATS server strategy, the RPC client, the outbox
 * relay, the consumers and the stream set-up.
 */
export type ServiceName = 'identity' | 'membership' | 'authorization' | 'audit-log' | 'gateway';

export const SERVICES: readonly ServiceName[] = ['identity', 'membership', 'authorization', 'audit-log'];

export const evtSubject = (service: ServiceName, type: string, version: number): string => `evt.${service}.${type}.v${version}`;
export const cmdSubject = (service: ServiceName, aggregate: string, verbNoun: string): string => `cmd.${service}.${aggregate}.${verbNoun}`;
export const qrySubject = (service: ServiceName, query: string): string => `qry.${service}.${query}`;

/** All domain events. */
export const allEventsSubject = (): string => 'evt.>';
export const serviceEventsSubject = (service: ServiceName): string => `evt.${service}.>`;
/** Poison events of one consumer. */
export const deadLetterSubject = (consumer: string): string => `dlq.${consumer}`;
export const allDeadLettersSubject = (): string => 'dlq.>';

/** Parse `evt.<service>.<type>.v<N>` (a subject as the code names it: consumers hand it over without the prefix). */
export function parseEventSubject(subject: string): { service: string; type: string; version: number } | undefined {
  const m = /^evt\.([a-z-]+)\.(.+)\.v(\d+)$/.exec(subject);
  return m ? { service: m[1], type: m[2], version: Number(m[3]) } : undefined;
}

/** One installation's namespace on a NATS server: how the subjects of the code and the JetStream names look on the wire. */
export interface Naming {
  /** `''` (production) or `name.` */
  readonly prefix: string;
  /** the subject on the wire: the prefix, then the subject as the code names it */
  subject(subject: string): string;
  /** a subject on the wire as the code names it (the prefix removed); a subject outside the namespace unchanged */
  local(wire: string): string;
  /** a JetStream stream or KV bucket name (no dots allowed): `EVENTS` → `EVENTS`, or `T1A2B_EVENTS` with prefix `t1a2b.` */
  stream(name: string): string;
}

const PREFIX = /^([A-Za-z0-9_-]+\.)?$/;

/** The naming of the installation whose subject prefix is `prefix` (the configuration's `NATS_SUBJECT_PREFIX`). */
export function subjectNaming(prefix: string): Naming {
  if (!PREFIX.test(prefix)) throw new Error(`the subject prefix must be empty or look like "name." but is "${prefix}"`);
  const streamPrefix = prefix.replace(/\.$/, '_').toUpperCase();
  return {
    prefix,
    subject: (subject) => prefix + subject,
    local: (wire) => (prefix && wire.startsWith(prefix) ? wire.slice(prefix.length) : wire),
    stream: (name) => streamPrefix + name,
  };
}

/** Production's naming: no prefix. */
export const UNPREFIXED: Naming = subjectNaming('');

export const eventsStreamName = (naming: Naming): string => naming.stream('EVENTS');
export const deadLetterStreamName = (naming: Naming): string => naming.stream('DEADLETTER');
/** KV buckets (rate limits, token usage, idempotency records) */
export const kvBucketName = (naming: Naming, name: string): string => naming.stream(name);
