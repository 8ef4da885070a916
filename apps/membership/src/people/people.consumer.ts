import { DomainError, ErrorCode, eventsStreamName } from '@app/contracts';
import { consumeEvents, Position, streamLastSequence, waitUntilApplied, type ConsumerMetrics, type EventConsumer } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { loadPeopleSnapshot, writePeopleSnapshot } from './people.snapshot';
import { applyPeopleEvent, emptyModel, modelFromSnapshot, snapshotOf, type PeopleModel } from './people.view';

/** The consumer's name (metrics, logs): the read model kept its name when it moved into memory. */
export const PEOPLE_VIEW = 'membership-people';

export interface PeopleViewOptions {
  /** a snapshot once this many stream messages were applied since the newest one … (default 10,000) */
  snapshotEveryEvents?: number;
  /** … checked this often (default 10 s) */
  snapshotCheckMs?: number;
}

export interface RunningPeopleView {
  /** the model once it has applied everything in the stream when the call began (read-your-writes); 503 after `timeoutMs` */
  current(timeoutMs?: number): Promise<PeopleModel>;
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
  infra: Pick<Infrastructure, 'db' | 'js' | 'jsm' | 'naming'> & {
    logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
    consumerMetrics?: ConsumerMetrics;
    deadLetters?: { inc(labels: { projection: string }): void };
  },
  options: PeopleViewOptions = {},
): Promise<RunningPeopleView> {
  const stream = await infra.jsm.streams.info(eventsStreamName(infra.naming));
  const restored = await loadPeopleSnapshot(infra.db, { created: stream.created, lastSequence: stream.state.last_seq }, infra.logger).catch((err: Error) => {
    infra.logger.warn({ reason: err.message }, 'people snapshot not read: replaying the events stream');
    return undefined;
  });
  const model = restored ? modelFromSnapshot(restored) : emptyModel();
  if (stream.state.first_seq > model.sequence + 1 && stream.state.last_seq > model.sequence)
    infra.logger.error(
      { needed: model.sequence + 1, firstSequence: stream.state.first_seq },
      'the events stream no longer holds every event the people list needs: lists may miss people',
    );
  const applied = new Position(model.sequence);
  let stored = model.sequence;
  const consumer: EventConsumer = await consumeEvents({
    name: PEOPLE_VIEW,
    js: infra.js,
    jsm: infra.jsm,
    naming: infra.naming,
    mode: 'ordered',
    progress: applied,
    maxBatch: 1000,
    publishDeadLetters: false,
    logger: infra.logger,
    onDeadLetter: () => infra.deadLetters?.inc({ projection: PEOPLE_VIEW }),
    metrics: infra.consumerMetrics,
    apply(batch) {
      for (const e of batch) applyPeopleEvent(model, e.event, e.sequence);
    },
  });

  let writing: Promise<void> | undefined;
  const snapshot = () =>
    (writing ??= (async () => {
      try {
        const head = await writePeopleSnapshot(infra.db, snapshotOf(model), stream.created);
        stored = head?.sequence ?? model.sequence;
      } catch (err) {
        infra.logger.warn({ reason: (err as Error).message }, 'people snapshot not written');
      } finally {
        writing = undefined;
      }
    })());
  const every = options.snapshotEveryEvents ?? 10_000;
  const timer = setInterval(() => {
    if (model.sequence - stored >= every && consumer.pending() === 0) void snapshot();
  }, options.snapshotCheckMs ?? 10_000);
  timer.unref();

  return {
    startedFrom: restored?.sequence ?? 0,
    position: () => applied.position(),
    async current(timeoutMs = 10_000) {
      if (!(await waitUntilApplied(applied, await streamLastSequence(infra.jsm, infra.naming), timeoutMs)))
        throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the people list is catching up; try again');
      return model;
    },
    snapshot,
    async stop() {
      clearInterval(timer);
      await consumer.stop();
      await writing;
    },
  };
}
