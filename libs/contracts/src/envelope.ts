/** How a change reached the system. */
export type Medium = 'api' | 'web' | 'cli' | 'system';

export interface Actor {
  /** user id, or 'system' */
  id: string;
  username?: string;
}

/**
 * Metadata carried by every command and copied onto every event it causes.
 * Time and ids are injected here so deciders stay pure.
 */
export interface CommandMeta {
  commandId: string;
  actor: Actor;
  correlationId: string;
  causationId?: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
  medium: Medium;
  /** ISO timestamp of the command */
  timestamp: string;
  /**
   * consistency tokens of the caller's recent writes (the gateway's, libs/contracts/src/consistency.ts): a query
   * that must show the caller's writes waits until its read model has applied these positions. Never copied
   * into events (`eventMetadata`).
   */
  after?: string[];
  /**
   * the gateway's read index of the request: the events stream's last sequence when it arrived, which its own
   * consumer has applied. A query may wait for it instead of looking the sequence up again (one JetStream API
   * request less); every write answered before the request began is at or below it once published. Never
   * copied into events.
   */
  readIndex?: number;
}

export interface EventMetadata {
  actor: Actor;
  correlationId: string;
  causationId: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
  medium: Medium;
}

/** A domain event as it is stored and published. `type` has no version suffix; `version` is separate. */
export interface DomainEvent<T extends string = string, D = Record<string, unknown>> {
  id: string;
  type: T;
  version: number;
  /** aggregate stream this event belongs to, e.g. `user-<uuid>` */
  streamId: string;
  /** position of the event in its stream, starting at 1 */
  streamVersion: number;
  /** which service wrote it */
  service: string;
  occurredAt: string;
  /** organization the event concerns, when there is one (the audit log's "resource owner") */
  organizationId?: string;
  data: D;
  metadata: EventMetadata;
}

/** An event a decider returns, before the store gives it an id, stream and position. */
export interface NewEvent<T extends string = string, D = Record<string, unknown>> {
  type: T;
  version: number;
  data: D;
  organizationId?: string;
}

/** Message shape of every command and query over NATS: metadata next to the body. */
export interface Message<B = unknown> {
  meta: CommandMeta;
  body: B;
}

export function systemMeta(commandId: string, now = new Date()): CommandMeta {
  return {
    commandId,
    actor: { id: 'system', username: 'system' },
    correlationId: commandId,
    medium: 'system',
    timestamp: now.toISOString(),
  };
}

export function eventMetadata(meta: CommandMeta): EventMetadata {
  return {
    actor: meta.actor,
    correlationId: meta.correlationId,
    causationId: meta.causationId ?? meta.commandId,
    ...(meta.requestId ? { requestId: meta.requestId } : {}),
    ...(meta.ip ? { ip: meta.ip } : {}),
    ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
    medium: meta.medium,
  };
}
