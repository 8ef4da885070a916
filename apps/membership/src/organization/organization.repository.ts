import type { Collection, Db } from 'mongodb';
import { DomainError, ErrorCode, type CommandMeta, type NewEvent } from '@app/contracts';
import { ConcurrencyError, isDuplicateKey, type CommitDocument, type EventStore } from '@app/event-store';
import { organizationDecider, type OrganizationCommand } from './organization.decider';
import { evolveOrganization, initialOrganizationState, organizationStreamId, type OrganizationState } from './organization.state';

/** A snapshot is written when the stream has grown this many events past the last one. */
export const SNAPSHOT_EVERY = 200;

interface SnapshotDocument {
  _id: string;
  version: number;
  state: OrganizationState;
  savedAt: Date;
}

export const snapshots = (db: Db): Collection<SnapshotDocument> => db.collection<SnapshotDocument>('organization_snapshots');

export interface LoadedOrganization {
  state: OrganizationState;
  version: number;
  /** version of the snapshot the load started from (0: none) */
  snapshotVersion: number;
}

/** Latest snapshot (if any) plus only the commits after it. */
export async function loadOrganization(db: Db, store: EventStore, organizationId: string): Promise<LoadedOrganization> {
  const streamId = organizationStreamId(organizationId);
  const snap = await snapshots(db).findOne({ _id: streamId });
  let state: OrganizationState = snap ? snap.state : initialOrganizationState;
  let version = snap?.version ?? 0;
  for (const e of await store.readStream(streamId, version)) {
    state = evolveOrganization(state, e);
    version = e.streamVersion;
  }
  return { state, version, snapshotVersion: snap?.version ?? 0 };
}

/** Replaces the snapshot unless a newer one is stored already (concurrent writers may both try). */
export async function saveSnapshot(db: Db, organizationId: string, state: OrganizationState, version: number): Promise<void> {
  const _id = organizationStreamId(organizationId);
  try {
    await snapshots(db).replaceOne({ _id, version: { $lt: version } }, { version, state, savedAt: new Date() }, { upsert: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err; // a newer snapshot exists: the upsert's insert collided with it
  }
}

export interface OrganizationResult<R> {
  state: OrganizationState;
  version: number;
  events: NewEvent[];
  commit?: CommitDocument;
  /** the command's reply: computed from its events, or the first reply when the command id was seen before */
  reply: R;
}

/**
 * Load (snapshot + newer commits) → decide → append, retried on a version conflict so every decision is
 * made on the latest state. A command id that was appended before returns its first reply. Writes a new
 * snapshot every SNAPSHOT_EVERY events.
 */
export async function runOrganizationCommand<R = undefined>(
  deps: { db: Db; store: EventStore; flush?: (streamId: string) => Promise<void> },
  command: OrganizationCommand,
  meta: CommandMeta,
  reply: (events: NewEvent[], state: OrganizationState) => R = () => undefined as R,
  retries = 10,
): Promise<OrganizationResult<R>> {
  const streamId = organizationStreamId(command.organizationId);
  for (let attempt = 0; ; attempt++) {
    const earlier = await deps.store.findByCommand(meta.commandId);
    const loaded = await loadOrganization(deps.db, deps.store, command.organizationId);
    if (earlier) return { state: loaded.state, version: loaded.version, events: [], commit: earlier, reply: earlier.reply as R };
    const events = organizationDecider.decide(command, loaded.state, meta);
    if (events.length === 0) return { state: loaded.state, version: loaded.version, events, reply: reply(events, loaded.state) };
    const outcome = reply(events, loaded.state);
    try {
      const result = await deps.store.append(streamId, loaded.version, events, { commandId: meta.commandId, meta, reply: outcome ?? null });
      if (result.status === 'duplicate') {
        const again = await loadOrganization(deps.db, deps.store, command.organizationId);
        return { state: again.state, version: again.version, events: [], commit: result.commit, reply: result.commit.reply as R };
      }
      const state = result.commit.events.reduce(evolveOrganization, loaded.state);
      const version = result.commit.toVersion;
      if (version - loaded.snapshotVersion >= SNAPSHOT_EVERY) await saveSnapshot(deps.db, command.organizationId, state, version);
      await deps.flush?.(streamId);
      return { state, version, events, commit: result.commit, reply: outcome };
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      if (attempt >= retries) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'the organization was changed concurrently; try again');
      await new Promise((r) => setTimeout(r, Math.random() * 20 * (attempt + 1)));
    }
  }
}
