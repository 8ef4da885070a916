import type { CatalogueEvent } from '@app/contracts';

/**
 * One document per append. `_id` is `<streamId>@<fromVersion>`; a unique index on (streamId, fromVersion)
 * turns a second writer at the same position into a duplicate-key error, and a unique index on commandId
 * makes a retried command unable to append twice.
 */
export interface CommitDocument {
  _id: string;
  streamId: string;
  fromVersion: number;
  toVersion: number;
  commandId: string;
  /** checked against the event catalogue before the commit was written (`EventStoreOptions.validate`) */
  events: CatalogueEvent[];
  /** the first outcome of the command, returned again when it is retried (never holds secrets) */
  reply?: unknown;
  /**
   * Only on commits written before the outbox kept positions per stream: `true` once they were published.
   * `ensureIndexes` turns these flags into positions once; nothing reads them afterwards, and commits written
   * now do not have one (the relay never updates a commit). See OutboxPosition.
   */
  published?: boolean;
  committedAt: Date;
}

/**
 * The outbox relay's progress in one stream: JetStream has acknowledged every event up to `version`
 * (`_id` = stream id). Written by the relay after the acks, at most a moment late, never ahead of them.
 */
export interface OutboxPosition {
  _id: string;
  version: number;
}

/**
 * The outbox sweep's checkpoint (one document, `_id` = 'sweep'): every commit committed before `since` had
 * been published when a sweep last looked, so the next sweep looks only at commits from a little earlier on.
 */
export interface OutboxSweepCheckpoint {
  _id: string;
  since: Date;
}

/**
 * A process whose relay publishes what it appends (`_id` = an id of the relay, new at every start): it says it
 * is alive every few seconds (`aliveAt`), and `gone` when it stops. A writer that stopped saying so, or is
 * gone, may have left commits unpublished: that is when another relay sweeps (outbox-relay.ts `start`).
 */
export interface OutboxWriter {
  _id: string;
  aliveAt: Date;
  gone?: boolean;
}

export const COMMITS = 'event_commits';
export const OUTBOX_POSITIONS = 'outbox_positions';
export const OUTBOX_SWEEP = 'outbox_sweep';
export const OUTBOX_WRITERS = 'outbox_writers';
export const RESERVATIONS = 'reservations';
export const CHECKPOINTS = 'projection_checkpoints';
