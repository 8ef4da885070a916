import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection } from 'nats';
import { jetStreamPublisher, type JetStreamPublish } from '@app/messaging';
import { eventsStreamName, systemMeta, type DomainEvent } from '@app/contracts';
import { testNaming } from './per-file';
import type { EventStore } from '@app/event-store';

/** Checks of the outbox relay against a real JetStream, shared by its int-specs. */

/** A documented event of about 300 bytes, so the file's contract check accepts what these tests publish. */
export const renamed = (userId: string, n: number) => ({
  type: 'user.screen-name-changed',
  version: 1,
  data: { userId, name: `Name ${n}`, previousName: `Name ${n - 1}` },
});

/** Appends `commits` commits of `perCommit` events to a new user stream, one after another. */
export async function appendStream(store: EventStore, commits: number, perCommit: number): Promise<DomainEvent[]> {
  const userId = randomUUID();
  const events: DomainEvent[] = [];
  for (let c = 0; c < commits; c++) {
    const batch = Array.from({ length: perCommit }, (_, i) => renamed(userId, events.length + i + 1));
    const r = await store.append(`user-${userId}`, events.length, batch, { commandId: randomUUID(), meta: systemMeta(randomUUID()) });
    events.push(...r.commit.events);
  }
  return events;
}

export interface Published {
  seq: number;
  subject: string;
  msgId: string | undefined;
  event: DomainEvent;
}

/** Everything in the events stream, in stream order, read by a fresh consumer. */
export async function readEventsStream(nc: NatsConnection): Promise<Published[]> {
  const stream = eventsStreamName(testNaming());
  const last = (await (await nc.jetstreamManager()).streams.info(stream)).state.last_seq;
  const consumer = await nc.jetstream().consumers.get(stream);
  const codec = JSONCodec<DomainEvent>();
  const out: Published[] = [];
  while (out.length < last) {
    const m = await consumer.next({ expires: 2000 });
    if (!m) break;
    out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), event: codec.decode(m.data) });
    if (m.seq >= last) break;
  }
  return out;
}

/** Each appended event is in the stream exactly once, and every stream's events are in version order. */
export function expectEachOnceInStreamOrder(published: Published[], appended: DomainEvent[]): void {
  const streams = new Set(appended.map((e) => e.streamId));
  const mine = published.filter((p) => streams.has(p.event.streamId));
  expect(mine.map((p) => p.event.id).sort()).toEqual(appended.map((e) => e.id).sort());
  for (const streamId of streams) {
    const versions = mine.filter((p) => p.event.streamId === streamId).map((p) => p.event.streamVersion);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  }
}

/**
 * The relay's publishes (a `jetStreamPublisher` on `nc`, as the relay makes by default) observed: how many there
 * were, how many awaited their ack at most, and a hook per call. Pass `publish` to the relay.
 */
export function observedPublish(nc: NatsConnection, onPublish: (call: number) => void = () => undefined) {
  const publisher = jetStreamPublisher(nc);
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const publish: JetStreamPublish = (...args) => {
    onPublish(++calls);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    return publisher.publish(...args).finally(() => inFlight--);
  };
  return { publish, maxInFlight: () => maxInFlight, calls: () => calls, close: publisher.close };
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
