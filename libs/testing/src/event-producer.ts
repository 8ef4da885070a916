import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { JSONCodec, type NatsConnection } from 'nats';
import { systemMeta, type CommandMeta, type NewEvent, type ServiceName } from '@app/contracts';
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

/**
 * A request in the @nestjs/microservices NATS wire format (`{ pattern, data, id }` → `{ response | err }`), as
 * one service sends it to another, in this file's namespace: a fresh command id per call. An error reply rejects
 * with its `code`.
 */
export async function natsRequest<T>(nc: NatsConnection, subject: string, body: unknown, timeoutMs = 20_000): Promise<T> {
  const data = { meta: systemMeta(randomUUID()), body };
  const wire = testNaming().subject(subject);
  const reply = await nc.request(wire, JSONCodec().encode({ pattern: wire, id: randomUUID(), data }), { timeout: timeoutMs });
  const decoded = JSONCodec<{ response?: T; err?: { code: string } }>().decode(reply.data);
  if (decoded.err) throw Object.assign(new Error(`request failed: ${decoded.err.code}`), { code: decoded.err.code, reply: decoded.err });
  return decoded.response as T;
}
