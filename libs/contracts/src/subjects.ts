/**
 * Every NATS subject and JetStream name is built here, never typed by hand.
 *
 * `NATS_SUBJECT_PREFIX` (default empty) namespaces one installation's subjects and streams on a shared
 * NATS server; the tests use it to give every test file its own namespace. Production leaves it empty, so
 * subjects are exactly `evt.<service>.<type>.v<N>`, `cmd.<service>.<aggregate>.<verb-noun>`,
 * `qry.<service>.<query>`.
 */
export type ServiceName = 'identity' | 'membership' | 'authorization' | 'audit-log' | 'gateway';

export const SERVICES: readonly ServiceName[] = ['identity', 'membership', 'authorization', 'audit-log'];

export function subjectPrefix(): string {
  const p = process.env.NATS_SUBJECT_PREFIX ?? '';
  if (p && !/^[A-Za-z0-9_-]+\.$/.test(p)) throw new Error(`NATS_SUBJECT_PREFIX must look like "name." but is "${p}"`);
  return p;
}

/** JetStream names may not contain dots. */
function streamPrefix(): string {
  return subjectPrefix().replace(/\.$/, '_').toUpperCase();
}

export const evtSubject = (service: ServiceName, type: string, version: number): string => `${subjectPrefix()}evt.${service}.${type}.v${version}`;
export const cmdSubject = (service: ServiceName, aggregate: string, verbNoun: string): string => `${subjectPrefix()}cmd.${service}.${aggregate}.${verbNoun}`;
export const qrySubject = (service: ServiceName, query: string): string => `${subjectPrefix()}qry.${service}.${query}`;

/** All domain events. */
export const allEventsSubject = (): string => `${subjectPrefix()}evt.>`;
export const serviceEventsSubject = (service: ServiceName): string => `${subjectPrefix()}evt.${service}.>`;
/** Poison events of one consumer. */
export const deadLetterSubject = (consumer: string): string => `${subjectPrefix()}dlq.${consumer}`;
export const allDeadLettersSubject = (): string => `${subjectPrefix()}dlq.>`;

export const eventsStreamName = (): string => `${streamPrefix()}EVENTS`;
export const deadLetterStreamName = (): string => `${streamPrefix()}DEADLETTER`;
/** KV buckets (rate limits, token usage) */
export const kvBucketName = (name: string): string => `${streamPrefix()}${name}`;

/** Parse `evt.<service>.<type>.v<N>` (after the prefix). */
export function parseEventSubject(subject: string): { service: string; type: string; version: number } | undefined {
  const rest = subject.slice(subjectPrefix().length);
  const m = /^evt\.([a-z-]+)\.(.+)\.v(\d+)$/.exec(rest);
  return m ? { service: m[1], type: m[2], version: Number(m[3]) } : undefined;
}
