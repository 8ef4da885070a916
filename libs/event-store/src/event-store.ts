import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { eventMetadata, validateEvent, type CatalogueEvent, type CommandMeta, type DomainEvent, type NewEvent } from '@app/contracts';
import { COMMITS, type CommitDocument } from './commit';
import { ConcurrencyError, duplicateKeyIndexes, isDuplicateKey } from './errors';
import { ensureIndexes as createIndexesOneByOne } from './indexes';
import { positionsFromPublishedFlags } from './outbox-relay';
import { noUpcasters, type UpcasterRegistry } from './upcasters';

export interface AppendOptions {
  /** id of the command that caused the append; a second append with the same id is refused */
  commandId: string;
  meta: CommandMeta;
  reply?: unknown;
}

export type AppendResult =
  | { status: 'appended'; commit: CommitDocument }
  /** the command id had already been appended: nothing new was written; this is the first commit */
  | { status: 'duplicate'; commit: CommitDocument };

/** One append of `appendMany`. */
export interface ManyAppend {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
  commandId: string;
}

export interface AppendManyResult {
  /** the commits written now, in the order given */
  appended: CommitDocument[];
  /** appends whose command id had been appended before: their first commits */
  duplicates: CommitDocument[];
  /** appends refused because another writer took their stream position */
  conflicts: ConcurrencyError[];
}

/** What `appendSequence` did: the commits written (a prefix of those given) and why it stopped, if it did. */
export interface SequenceResult {
  appended: CommitDocument[];
  /** the first commit not written: its command id had been appended before (that first commit), or its position was taken */
  stopped?: { index: number; duplicate: CommitDocument } | { index: number; conflict: ConcurrencyError };
}

export interface EventStoreOptions {
  service: DomainEvent['service'];
  upcasters?: UpcasterRegistry;
  /** called after each successful append (the outbox relay publishes right away) */
  onAppended?: (commit: CommitDocument) => void;
  /**
   * Checks every event before it is written (default: against the event catalogue, `validateEvent`): an
   * event that does not match its schema is a bug of the writer and is never stored, so whatever reads the
   * store gets events of the catalogue. `false` only for tests that store events of their own.
   */
  validate?: ((event: DomainEvent) => string[]) | false;
}

export type EventStore = ReturnType<typeof createEventStore>;

/**
 * MongoDB event store without multi-document transactions or change streams: it works the same on a
 * standalone mongod, a replica set and FerretDB.
 */
export function createEventStore(db: Db, options: EventStoreOptions) {
  const commits: Collection<CommitDocument> = db.collection<CommitDocument>(COMMITS);
  const upcasters = options.upcasters ?? noUpcasters;
  const validate = options.validate === false ? () => [] : (options.validate ?? validateEvent);

  async function ensureIndexes(): Promise<void> {
    await createIndexesOneByOne(commits, [
      { key: { streamId: 1, fromVersion: 1 }, name: 'stream_position', unique: true },
      { key: { commandId: 1 }, name: 'command_id', unique: true },
      // the outbox sweep's window, read from the index alone (docs/architecture.md, "Outbox")
      { key: { committedAt: 1, streamId: 1, toVersion: 1 }, name: 'committed_at' },
    ]);
    await positionsFromPublishedFlags(commits);
  }

  async function findByCommand(commandId: string): Promise<CommitDocument | null> {
    return commits.findOne({ commandId });
  }

  /**
   * Appends `events` at `expectedVersion + 1` in one document. Throws ConcurrencyError when another writer
   * got there first; returns the earlier commit when this command id was already appended.
   */
  async function append(streamId: string, expectedVersion: number, newEvents: NewEvent[], opts: AppendOptions): Promise<AppendResult> {
    const commit = commitOf(streamId, expectedVersion, newEvents, opts);
    try {
      await commits.insertOne(commit);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Either the command id was appended before (its first commit is the outcome) or another writer
      // took this stream position (a concurrency conflict). Which index reports first is unspecified.
      const first = await findByCommand(opts.commandId);
      if (first) return { status: 'duplicate', commit: first };
      throw new ConcurrencyError(streamId, expectedVersion);
    }
    options.onAppended?.(commit);
    return { status: 'appended', commit };
  }

  /**
   * Consecutive commits of one stream (each built by `prepare` on the version the previous one ends at) in
   * one ordered insert: one round trip for a group commit. The insert stops at the first commit refused, so
   * what is written is always a prefix, never a commit after a gap; why it stopped is reported, not thrown.
   */
  async function appendSequence(docs: CommitDocument[]): Promise<SequenceResult> {
    for (let i = 1; i < docs.length; i++)
      if (docs[i].streamId !== docs[0].streamId || docs[i].fromVersion !== docs[i - 1].toVersion + 1)
        throw new Error('appendSequence takes consecutive commits of one stream');
    let written = docs.length;
    let failed: CommitDocument | undefined;
    try {
      if (docs.length === 1) await commits.insertOne(docs[0]);
      else if (docs.length) await commits.insertMany(docs, { ordered: true });
    } catch (err) {
      const index = docs.length === 1 ? (isDuplicateKey(err) ? 0 : undefined) : duplicateKeyIndexes(err)?.[0];
      if (index === undefined) throw err;
      written = index;
      failed = docs[index];
    }
    const appended = docs.slice(0, written);
    for (const commit of appended) options.onAppended?.(commit);
    if (!failed) return { appended };
    const first = await findByCommand(failed.commandId);
    return {
      appended,
      stopped: first ? { index: written, duplicate: first } : { index: written, conflict: new ConcurrencyError(failed.streamId, failed.fromVersion - 1) },
    };
  }

  /**
   * Many appends (to different streams) in one insert, e.g. the first commit of each of many new
   * aggregates; each is what `append` would have written. The outcome of each append is reported rather
   * than thrown; a retried command id finds its first commit, looked up for all of them with one query.
   * `publish: false` leaves publishing to the caller (`relay.publishStream`), e.g. to pace it; the relay's
   * sweep publishes whatever is left unpublished.
   */
  async function appendMany(appends: ManyAppend[], meta: CommandMeta, opts: { publish?: boolean } = {}): Promise<AppendManyResult> {
    const docs = appends.map((a) => commitOf(a.streamId, a.expectedVersion, a.events, { commandId: a.commandId, meta }));
    let failed: number[] = [];
    if (docs.length) {
      try {
        await commits.insertMany(docs, { ordered: false });
      } catch (err) {
        const indexes = duplicateKeyIndexes(err);
        if (!indexes) throw err;
        failed = indexes;
      }
    }
    const failedSet = new Set(failed);
    const appended = docs.filter((_, i) => !failedSet.has(i));
    if (opts.publish !== false) for (const commit of appended) options.onAppended?.(commit);
    const firsts = failed.length ? await commits.find({ commandId: { $in: failed.map((i) => docs[i].commandId) } }).toArray() : [];
    const byCommand = new Map(firsts.map((c) => [c.commandId, c]));
    return {
      appended,
      duplicates: failed.flatMap((i) => byCommand.get(docs[i].commandId) ?? []),
      conflicts: failed.filter((i) => !byCommand.has(docs[i].commandId)).map((i) => new ConcurrencyError(docs[i].streamId, appends[i].expectedVersion)),
    };
  }

  /** The commit `append` would write (its events checked against the catalogue), without writing it: for `appendSequence`. */
  function commitOf(streamId: string, expectedVersion: number, newEvents: NewEvent[], opts: AppendOptions): CommitDocument {
    if (newEvents.length === 0) throw new Error('append needs at least one event');
    const occurredAt = opts.meta.timestamp;
    const metadata = eventMetadata(opts.meta);
    const events: DomainEvent[] = newEvents.map((e, i) => ({
      id: randomUUID(),
      type: e.type,
      version: e.version,
      streamId,
      streamVersion: expectedVersion + 1 + i,
      service: options.service,
      occurredAt,
      ...(e.organizationId ? { organizationId: e.organizationId } : {}),
      data: e.data,
      metadata,
    }));
    for (const e of events) {
      const problems = validate(e);
      if (problems.length) throw new Error(`refusing to store ${e.type}.v${e.version} on ${streamId}: ${problems.join('; ')}`);
    }
    const commit: CommitDocument = {
      _id: `${streamId}@${expectedVersion + 1}`,
      streamId,
      fromVersion: expectedVersion + 1,
      toVersion: expectedVersion + events.length,
      commandId: opts.commandId,
      // checked just above: what is stored is of the catalogue
      events: events as CatalogueEvent[],
      ...(opts.reply === undefined ? {} : { reply: opts.reply }),
      committedAt: new Date(),
    };
    return commit;
  }

  /**
   * Events of a stream in order, upcast to their current versions, typed as the catalogue's: each was checked
   * against its schema when it was appended (`validate`).
   */
  async function readStream(streamId: string, afterVersion = 0): Promise<CatalogueEvent[]> {
    const docs = await commits
      .find({ streamId, toVersion: { $gt: afterVersion } }, { projection: { events: 1 } })
      .sort({ fromVersion: 1 })
      .toArray();
    return docs.flatMap((d) => d.events.filter((e) => e.streamVersion > afterVersion).map((e) => upcasters.upcast(e) as CatalogueEvent));
  }

  /**
   * Rebuilds an aggregate's state with a pure evolve. Version 0 means the stream does not exist. The events
   * are typed as the catalogue's: each was checked against its schema when it was appended, and is upcast
   * to its current version here.
   */
  async function load<S>(streamId: string, evolve: (state: S, event: CatalogueEvent) => S, initialState: S): Promise<{ state: S; version: number }> {
    const events = await readStream(streamId);
    return {
      state: events.reduce(evolve, initialState),
      version: events.length ? events[events.length - 1].streamVersion : 0,
    };
  }

  return { commits, ensureIndexes, append, appendMany, appendSequence, prepare: commitOf, readStream, load, findByCommand };
}
