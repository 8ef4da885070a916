import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import { DomainError, systemMeta, type CommandMeta, type ErrorReply, type Message, type NewEvent, type ServiceName } from '@app/contracts';
import { rpcClient, RpcFailure } from '@app/messaging';
import { createEventStore, createOutboxRelay, type EventStore, type OutboxRelay } from '@app/event-store';
import { testNaming } from './per-file';

/**
 * An event store of one service with its outbox relay, as the services have them, for tests that feed a
 * projection with real events: `append` writes a commit at the next version of the stream and waits until
 * JetStream acknowledged it.
 */
export function eventProducer(db: Db, service: ServiceName, nc: NatsConnection) {
  let relay: OutboxRelay | undefined;
  const store: EventStore = createEventStore(db, { service, onAppended: (c) => relay?.onAppended(c) });
  relay = createOutboxRelay({ commits: store.commits, js: nc.jetstream(), naming: testNaming(), service });
  const versions = new Map<string, number>();
  return {
    store,
    async append(streamId: string, events: NewEvent[], meta: Partial<CommandMeta> = {}) {
      const v = versions.get(streamId) ?? 0;
      const commandId = randomUUID();
      await store.append(streamId, v, events, { commandId, meta: { ...systemMeta(commandId), ...meta } });
      versions.set(streamId, v + events.length);
      await relay!.flushStream(streamId);
    },
    stop: () => relay!.stop(),
  };
}

export interface NatsRequestOptions {
  /**
   * the message's meta, sent as given (an incomplete one too: tests of the meta guard); default: `systemMeta`
   * with a fresh command id; `null`: no meta at all
   */
  meta?: Partial<CommandMeta> | null;
  /** default 20 s */
  timeoutMs?: number;
}

/** A service's answer: its reply, or the error it answered with (stable code, message, details). */
export type NatsOutcome<T> = { ok: true; value: T } | ({ ok: false } & ErrorReply);

/**
 * A request as one service sends it to another (the services' own client, `rpcClient`: the @nestjs/microservices
 * NATS wire format), in this file's namespace, with the caller's meta (or a system one with a fresh command id).
 * An error reply is returned, not thrown: its code, message and details (a message reply carries a code, never
 * an HTTP status: the gateway maps codes to statuses). A failed request (no responder, timeout) still rejects
 * (`RpcFailure`).
 */
export async function natsOutcome<T>(nc: NatsConnection, subject: string, body: unknown, opts: NatsRequestOptions = {}): Promise<NatsOutcome<T>> {
  try {
    return { ok: true, value: await natsRequest<T>(nc, subject, body, opts) };
  } catch (err) {
    if (!(err instanceof DomainError) || err instanceof RpcFailure) throw err;
    return { ok: false, ...err.toReply() };
  }
}

/** `natsOutcome`'s reply; an error reply rejects as a DomainError with its `code`, `message` and `details`. */
export function natsRequest<T>(nc: NatsConnection, subject: string, body: unknown, opts: NatsRequestOptions | number = {}): Promise<T> {
  const { meta, timeoutMs = 20_000 } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const message = { meta: meta === undefined ? systemMeta(randomUUID()) : (meta ?? undefined), body } as Message;
  return rpcClient(nc, { naming: testNaming() }).request<T>(subject, message, timeoutMs);
}
