import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';
import type { Db } from 'mongodb';
import { DomainError, ErrorCode, parseConsistencyToken, type CommandMeta } from '@app/contracts';
import type { OutboxRelay } from '@app/event-store';
import { MONGO_DB, OUTBOX_RELAY, STREAM_CONSUMER_DEPS, type StreamConsumerDeps } from '@app/platform';
import { startPeopleView, type RunningPeopleView } from '../people/people.consumer';
import type { PeopleModel } from '../people/people.view';

export const PEOPLE_VIEW_HANDLE = Symbol('PEOPLE_VIEW_HANDLE');
export interface PeopleViewHandle {
  /** the people view, starting in the background (the newest snapshot, then the events stream): queries wait for it */
  running: Promise<RunningPeopleView>;
  /** this process's outbox relay (the caller's writes published before the read) */
  relay: OutboxRelay;
}

/** Starts the people view with the module (not awaited: the service answers meanwhile); stopped on shutdown. */
export const peopleViewProvider: FactoryProvider<PeopleViewHandle> = {
  provide: PEOPLE_VIEW_HANDLE,
  useFactory: (consumer: StreamConsumerDeps, db: Db, relay: OutboxRelay): PeopleViewHandle & OnApplicationShutdown => {
    const running = startPeopleView({ ...consumer, db });
    running.catch((err: Error) => consumer.logger.error({ reason: err.message }, 'the people view did not start'));
    return { running, relay, onApplicationShutdown: async () => (await running.catch(() => undefined))?.stop() };
  },
  inject: [STREAM_CONSUMER_DEPS, MONGO_DB, OUTBOX_RELAY],
};

/**
 * The caller's own writes that may not be in JetStream yet (consistency tokens, `meta.after`: the gateway names
 * them for a while after each write): until the relay has published the organization streams up to those
 * positions (this process's round, or another replica's stored position), bounded; late: SERVICE_UNAVAILABLE.
 * Before that, whatever this process appended is published (its relay's rounds in flight), so with one
 * replica every write that answered is in the stream, token or not. A read that must show the caller's
 * writes calls this before taking the stream's last sequence (`caughtUp` does).
 */
export async function writesPublished(relay: OutboxRelay, meta: Pick<CommandMeta, 'after'> | undefined, timeoutMs = 5000): Promise<void> {
  await relay.settled();
  const positions = (meta?.after ?? []).flatMap((t) => parseConsistencyToken(t) ?? []).filter((p) => p.streamId.startsWith('organization-'));
  const published = await Promise.all(positions.map((p) => relay.waitPublished(p.streamId, p.version, timeoutMs)));
  if (published.includes(false)) throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'your last change is not readable yet; try again');
}

/**
 * Queries read the in-memory people model once the caller's writes are published (`meta`) and the model has
 * applied the events stream up to where it then was (read-your-writes; the gateway's read index when it can,
 * `readSequence`);
 * 503 SERVICE_UNAVAILABLE when it does not get there within 10 s.
 */
export async function caughtUp(handle: PeopleViewHandle, meta?: Pick<CommandMeta, 'after' | 'readIndex'>, timeoutMs = 10_000): Promise<PeopleModel> {
  const started = Date.now();
  const unavailable = () => new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the people list is starting; try again');
  await writesPublished(handle.relay, meta);
  let timer: NodeJS.Timeout | undefined;
  const view = await Promise.race([
    handle.running,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(unavailable()), timeoutMs))), // restoring a snapshot
  ]).finally(() => clearTimeout(timer));
  return view.current(Math.max(0, timeoutMs - (Date.now() - started)), meta, handle.relay.lastAckedSequence());
}
