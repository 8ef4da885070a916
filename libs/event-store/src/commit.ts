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
  published: boolean;
  committedAt: Date;
}

export const COMMITS = 'event_commits';
export const RESERVATIONS = 'reservations';
export const CHECKPOINTS = 'projection_checkpoints';
