import { DomainError, ErrorCode, eventsStreamName, type CommandMeta, type Naming } from '@app/contracts';
import { consumeEvents, Position, readSequence, scheduleSnapshots, waitUntilApplied, type ConsumerMetrics, type EventConsumer } from '@app/event-store';
import type { Db } from 'mongodb';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { peopleSnapshotStore } from './people.snapshot';
import { applyPeopleEvent, emptyModel, modelFromSnapshot, snapshotOf, type PeopleModel } from './people.view';
import { streamInfo } from '@app/messaging';

/** The consumer's name (metrics, logs): the read model kept its name when it moved into memory. */
export const PEOPLE_VIEW = 'membership-people';

export interface PeopleViewOptions {
  /** a snapshot once this many stream messages were applied since the newest one … (default 10,000) */
  snapshotEveryEvents?: number;
  /** … checked this often (default 10 s) */
  snapshotCheckMs?: number;
}

export interface RunningPeopleView {
  /**
   * the model once it has applied everything in the stream when the call began (read-your-writes), or up to
   * the request's read index (`readSequence` of `meta`, `own`: what this process's relay had acked); 503 after `timeoutMs`
   */
  current(timeoutMs?: number, meta?: Pick<CommandMeta, 'after' | 'readIndex'>, own?: number): Promise<PeopleModel>;
  /** where it started: the restored snapshot's sequence (0: replayed from the start) */
  startedFrom: number;
  /** the sequence applied so far */
  position(): number;
  /** writes a snapshot now (when it is newer than the stored one) */
  snapshot(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The people model of this replica: restored from the newest snapshot in the database (if any), then fed by
 * an ordered consumer of the whole events stream from the snapshot's sequence on (every replica reads the
 * stream itself, as authorization's view does). Snapshots are written by any replica that has applied
 * `snapshotEveryEvents` past the stored one (the head names the newest; an older one is not written over it).
 */
export async function startPeopleView(
  deps: {
    db: Db;
    js: JetStreamClient;
    jsm: JetStreamManager;
    naming: Naming;
    logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
    consumerMetrics?: ConsumerMetrics;
    deadLetters?: { inc(labels: { projection: string }): void };
  },
  options: PeopleViewOptions = {},
): Promise<RunningPeopleView> {
  const stream = await streamInfo(deps.jsm, eventsStreamName(deps.naming));
  const identity = { name: stream.config.name, created: stream.created };
  const store = peopleSnapshotStore(deps.db);
  const loaded = await store.load(identity, stream.state.last_seq, deps.logger).catch((err: Error) => {
    deps.logger.warn({ reason: err.message }, 'people snapshot not read: replaying the events stream');
    return undefined;
  });
  const restored = loaded?.snapshot;
  const model = restored ? modelFromSnapshot(restored) : emptyModel();
  if (stream.state.first_seq > model.sequence + 1 && stream.state.last_seq > model.sequence)
    deps.logger.error(
      { needed: model.sequence + 1, firstSequence: stream.state.first_seq },
      'the events stream no longer holds every event the people list needs: lists may miss people',
    );
  const applied = new Position(model.sequence);
  const consumer: EventConsumer = await consumeEvents({
    name: PEOPLE_VIEW,
    js: deps.js,
    jsm: deps.jsm,
    naming: deps.naming,
    mode: 'ordered',
    progress: applied,
    maxBatch: 1000,
    publishDeadLetters: false,
    logger: deps.logger,
    onDeadLetter: () => deps.deadLetters?.inc({ projection: PEOPLE_VIEW }),
    metrics: deps.consumerMetrics,
    apply(batch) {
      for (const e of batch) applyPeopleEvent(model, e.event, e.sequence);
    },
  });

  // no time condition: a snapshot once enough events were applied past the newest one
  const snapshots = scheduleSnapshots({
    name: 'people',
    store,
    stream: identity,
    schedule: { everyEvents: options.snapshotEveryEvents ?? 10_000, everyMs: 0, checkEveryMs: options.snapshotCheckMs ?? 10_000 },
    position: () => model.sequence,
    take: () => snapshotOf(model),
    idle: () => consumer.pending() === 0,
    newest: loaded?.head,
    logger: deps.logger,
  });

  return {
    startedFrom: restored?.sequence ?? 0,
    position: () => applied.position(),
    async current(timeoutMs = 10_000, meta?: Pick<CommandMeta, 'after' | 'readIndex'>, own = 0) {
      if (!(await waitUntilApplied(applied, await readSequence(deps.jsm, deps.naming, meta, own), timeoutMs)))
        throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the people list is catching up; try again');
      return model;
    },
    snapshot: snapshots.writeNow,
    async stop() {
      await snapshots.stop();
      await consumer.stop();
    },
  };
}
