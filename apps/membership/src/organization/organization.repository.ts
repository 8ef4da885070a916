import type { Collection, Db } from 'mongodb';
import { OrgAccess, type OrgAccessSnapshot, type RoleDefinition } from '@app/access-model';
import type { CatalogueEvent, CommandMeta, NewEvent } from '@app/contracts';
import {
  duplicateKeyIndexes,
  handleCommandBatch,
  isDuplicateKey,
  type BatchOutcome,
  type CommandResult,
  type CommitDocument,
  type EventStore,
} from '@app/event-store';
import { decideOrganization, weighsRoles, type OrganizationCommand } from './organization.decider';
import { mayRevoke } from './revocation';
import { evolveOrganization, initialOrganizationState, organizationStreamId, type OrganizationState } from './organization.state';

/** A snapshot is written when the stream has grown this many events past the last one. */
export const SNAPSHOT_EVERY = 100;
/**
 * 3: the shared access state (`OrgAccessSnapshot`) as a JSON string; a snapshot of another format is ignored (the
 * stream is replayed). As a string because the state holds nested arrays (a user's project roles are
 * `[projectId, roleId]` pairs), which FerretDB v1 refuses in a document ("nested arrays are not supported"):
 * format 2 stored the state as a document, and once someone held a project role every snapshot write failed.
 */
export const SNAPSHOT_FORMAT = 3;

interface SnapshotDocument {
  _id: string;
  version: number;
  format?: number;
  /** `JSON.stringify` of the `OrgAccessSnapshot` */
  state: string;
  savedAt: Date;
}

export const snapshots = (db: Db): Collection<SnapshotDocument> => db.collection<SnapshotDocument>('organization_snapshots');

/**
 * `commandId → commit _id` of every appended organization command: a retried command finds its first
 * commit by two `_id` look-ups. (`store.findByCommand` filters by `commandId`, which FerretDB v1 answers by
 * decoding every commit of the service.) Written after the append; a crash in between is still caught by
 * the store's unique command id index when the command is retried.
 */
export const appliedCommands = (db: Db): Collection<{ _id: string; commitId: string }> =>
  db.collection<{ _id: string; commitId: string }>('organization_commands');

export async function earlierCommit(deps: OrganizationDeps, commandId: string): Promise<CommitDocument | null> {
  const marker = await appliedCommands(deps.db).findOne({ _id: commandId });
  return marker ? deps.store.commits.findOne({ _id: marker.commitId }) : null;
}

export interface LoadedOrganization {
  state: OrganizationState;
  version: number;
  /** version of the last snapshot stored (0: none) */
  snapshotVersion: number;
}

/**
 * States of recently used organizations in this process, so a command on a 100,000-member organization
 * reads only the commits appended since (by any replica), not the snapshot again. Commands on one
 * organization run one at a time per process (`exclusive`): the cached state is evolved in place, and only
 * with committed events. Replicas still race through the store's optimistic concurrency.
 */
export class OrganizationCache {
  private readonly entries = new Map<string, LoadedOrganization>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** per organization, the batch queued and not started yet */
  private readonly batches = new Map<string, unknown[]>();

  /** `maxBatch`: the most commands of one group commit (1: one command at a time, as before group commit; bench/role-change) */
  constructor(
    private readonly max = 100,
    private readonly maxBatch = MAX_BATCH,
  ) {}

  get(organizationId: string): LoadedOrganization | undefined {
    return this.entries.get(organizationId);
  }

  set(organizationId: string, loaded: LoadedOrganization): void {
    this.entries.delete(organizationId);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(organizationId, loaded);
  }

  /**
   * Queues `item` for the organization's next batch: the items queued while no batch of theirs has started
   * yet run together, `run` called once with all of them (at most MAX_BATCH) under the organization's lock.
   */
  enqueue<T>(organizationId: string, item: T, run: (batch: T[]) => Promise<void>, max = this.maxBatch): void {
    const open = this.batches.get(organizationId) as T[] | undefined;
    if (open && open.length < max) {
      open.push(item);
      return;
    }
    const batch = [item];
    this.batches.set(organizationId, batch);
    void this.exclusive(organizationId, () => {
      if (this.batches.get(organizationId) === batch) this.batches.delete(organizationId);
      return run(batch);
    });
  }

  /** runs `fn` after every earlier `exclusive` call of this organization has finished */
  exclusive<T>(organizationId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(organizationId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.queues.set(organizationId, settled);
    void settled.then(() => {
      if (this.queues.get(organizationId) === settled) this.queues.delete(organizationId);
    });
    return next;
  }
}

export interface OrganizationDeps {
  db: Db;
  store: EventStore;
  cache?: OrganizationCache;
  /** publishes the stream's new commits (the relay) before the command replies */
  flush?: (streamId: string) => Promise<void>;
  /** the organization's custom roles as authorization defines them now (`qry.authorization.roles`) */
  customRoles?: (organizationId: string, meta: CommandMeta) => Promise<RoleDefinition[]>;
}

/**
 * Commits after `version`, walked by `_id` (`<streamId>@<fromVersion>`: each commit starts where the
 * previous one ended). A look-up by `_id` is the one query FerretDB v1 hands to SQLite (a query by
 * `streamId` decodes every commit of the service), and on MongoDB it is the `_id` index. Membership
 * registers no upcasters, so events are used as stored.
 */
export async function commitsAfter(commits: Collection<CommitDocument>, streamId: string, version: number): Promise<CatalogueEvent[]> {
  const events: CatalogueEvent[] = [];
  for (let v = version; ; ) {
    const commit = await commits.findOne({ _id: `${streamId}@${v + 1}` });
    if (!commit) return events;
    events.push(...commit.events);
    v = commit.toVersion;
  }
}

async function loadUnlocked(deps: OrganizationDeps, organizationId: string): Promise<LoadedOrganization> {
  const streamId = organizationStreamId(organizationId);
  let loaded = deps.cache?.get(organizationId);
  if (!loaded) {
    const snap = await snapshots(deps.db).findOne({ _id: streamId });
    loaded =
      snap?.format === SNAPSHOT_FORMAT
        ? { state: OrgAccess.fromSnapshot(JSON.parse(snap.state) as OrgAccessSnapshot), version: snap.version, snapshotVersion: snap.version }
        : { state: initialOrganizationState, version: 0, snapshotVersion: 0 };
  }
  for (const e of await commitsAfter(deps.store.commits, streamId, loaded.version)) {
    loaded.state = evolveOrganization(loaded.state, e);
    loaded.version = e.streamVersion;
  }
  if (loaded.version > 0) deps.cache?.set(organizationId, loaded);
  return loaded;
}

/** Cached state (or the latest snapshot) plus only the commits after it. */
export function loadOrganization(deps: OrganizationDeps, organizationId: string): Promise<LoadedOrganization> {
  return deps.cache ? deps.cache.exclusive(organizationId, () => loadUnlocked(deps, organizationId)) : loadUnlocked(deps, organizationId);
}

/** Replaces the snapshot unless a newer one is stored already (replicas may both try). */
export async function saveSnapshot(db: Db, organizationId: string, state: OrganizationState, version: number): Promise<void> {
  const _id = organizationStreamId(organizationId);
  try {
    await snapshots(db).replaceOne(
      { _id, version: { $lt: version } },
      { version, format: SNAPSHOT_FORMAT, state: JSON.stringify(state.toSnapshot()), savedAt: new Date() },
      { upsert: true },
    );
  } catch (err) {
    if (!isDuplicateKey(err)) throw err; // a newer snapshot exists: the upsert's insert collided with it
  }
}

function customRolesOf(deps: OrganizationDeps, organizationId: string, meta: CommandMeta): Promise<RoleDefinition[]> {
  if (!deps.customRoles) throw new Error('deciding this command needs the custom roles of the organization (deps.customRoles)');
  return deps.customRoles(organizationId, meta);
}

/** `reply`: computed from the events and the state they were decided on (with the custom roles), or the first reply when the command id was seen before */
export type OrganizationResult<R> = CommandResult<OrganizationState, R>;

/** The most commands of one organization decided and appended together (one group commit). */
export const MAX_BATCH = 32;

/** One queued command of an organization and how to answer its caller. */
interface Queued {
  command: OrganizationCommand;
  meta: CommandMeta;
  reply: (events: NewEvent[], state: OrganizationState) => unknown;
  settle: (outcome: BatchOutcome<OrganizationState, unknown>) => void;
}

/** A copy of a state to fold a batch's earlier commands into (the loaded, perhaps cached, state stays as loaded until the append). */
const copyState = (state: OrganizationState): OrganizationState => (state.exists ? OrgAccess.fromSnapshot(state.toSnapshot()) : new OrgAccess(state.id));

/**
 * The store's group-commit runner (`handleCommandBatch`) with membership's plug-ins, for the commands of one
 * organization queued together: load from the cache or the latest snapshot plus the newer commits; look the
 * command ids up in `organization_commands` (in parallel); the custom roles once per attempt when a decision
 * weighs roles (a retry after a version conflict asks again); decide each command on the state the earlier
 * ones leave, append the commits in one insert; then record the command ids (one insert), keep the new state
 * in the cache, write a snapshot every SNAPSHOT_EVERY events and publish the commits, together.
 */
async function runBatch(deps: OrganizationDeps, organizationId: string, queued: Queued[], retries: number): Promise<void> {
  const outcomes = await batchOutcomes(deps, organizationId, queued, retries).catch((error: unknown) => queued.map(() => ({ ok: false as const, error })));
  outcomes.forEach((o, i) => queued[i].settle(o));
}

function batchOutcomes(deps: OrganizationDeps, organizationId: string, queued: Queued[], retries: number) {
  return handleCommandBatch<OrganizationState, OrganizationCommand, RoleDefinition[] | undefined, unknown, LoadedOrganization>({
    store: deps.store,
    streamId: organizationStreamId(organizationId),
    commands: queued.map((q) => ({
      command: q.command,
      meta: q.meta,
      reply: (events, state, roles) => q.reply(events, roles ? state.withCustomRoles(roles) : state),
    })),
    decide: decideOrganization,
    evolve: evolveOrganization,
    copy: copyState,
    load: () => loadUnlocked(deps, organizationId),
    findEarlier: (commandId) => earlierCommit(deps, commandId),
    input: async (_loaded, commands) => (commands.some(weighsRoles) ? customRolesOf(deps, organizationId, queued[0].meta) : undefined),
    afterCommit: async ({ appended, earlier, committed, input }, loaded) => {
      if (committed) {
        // first: the runner has evolved the loaded (perhaps cached) state in place, or decided on a copy, so
        // the cache must hold the state and version after the commits before anything here can fail
        loaded.state = committed.state;
        loaded.version = committed.version;
        deps.cache?.set(organizationId, loaded);
      }
      // the command-id markers and the publish do not depend on each other: one round trip instead of two
      const markers = appended.length
        ? appliedCommands(deps.db)
            .insertMany(
              appended.map((c) => ({ _id: c.commandId, commitId: c._id })),
              { ordered: false },
            )
            .catch((err) => {
              if (!isDuplicateKey(err) && !duplicateKeyIndexes(err)) throw err;
            })
        : undefined;
      const snapshot = async () => {
        if (!committed || loaded.version - loaded.snapshotVersion < SNAPSHOT_EVERY) return;
        await saveSnapshot(deps.db, organizationId, loaded.state, loaded.version);
        loaded.snapshotVersion = loaded.version;
      };
      // a commit that may take a permission away is in JetStream before its command answers (every later
      // request, through any gateway, sees it); the others answer once appended and the relay publishes them
      // meanwhile, their callers reading them through consistency tokens
      const roles = input ? loaded.state.withCustomRoles(input) : loaded.state;
      // (and a new organization: its reply, pinned by the API contract, carries no token, and its creator's
      // next requests, through any gateway, find it by slug in the read model)
      const revokes = [...appended, ...earlier].some((c) => c.events.some((e) => e.type === 'organization.created' || mayRevoke(e, roles)));
      await Promise.all([markers, snapshot(), revokes ? deps.flush?.(organizationStreamId(organizationId)) : undefined]);
    },
    retries,
    conflictMessage: 'the organization was changed concurrently; try again',
  });
}

/**
 * Runs one command on its organization's stream and answers with its own outcome. With a cache (a running
 * service), commands of one organization in this process are queued and run as group commits, one batch at
 * a time under the organization's lock: the commands that arrive while a batch runs form the next one (at
 * most MAX_BATCH), decided one after another and appended in one round trip (docs/membership.md "Group
 * commit"). Replicas still race through the store's optimistic concurrency. Up to `retries` attempts after
 * the first, with a little random back-off.
 */
export function runOrganizationCommand<R = undefined>(
  deps: OrganizationDeps,
  command: OrganizationCommand,
  meta: CommandMeta,
  reply: (events: NewEvent[], state: OrganizationState) => R = () => undefined as R,
  retries = 10,
): Promise<OrganizationResult<R>> {
  const { organizationId } = command;
  return new Promise<OrganizationResult<R>>((resolve, reject) => {
    const queued: Queued = {
      command,
      meta,
      reply,
      settle: (o) => (o.ok ? resolve(o.result as OrganizationResult<R>) : reject(o.error)),
    };
    if (!deps.cache) void runBatch(deps, organizationId, [queued], retries);
    else deps.cache.enqueue(organizationId, queued, (batch) => runBatch(deps, organizationId, batch, retries));
  });
}
