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
import { timed, type OrganizationMetrics } from './organization.metrics';
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
  /** where the time of each step goes (`membership_organization_command_phase_seconds`) */
  metrics?: OrganizationMetrics;
}

/**
 * Commits after `version`, walked by `_id` (`<streamId>@<fromVersion>`: each commit starts where the
 * previous one ended). A look-up by `_id` is the one query FerretDB v1 hands to SQLite (a query by
 * `streamId` decodes every commit of the service), and on MongoDB it is the `_id` index. Membership
 * registers no upcasters, so events are used as stored.
 */
export async function commitsAfter(commits: Collection<CommitDocument>, streamId: string, version: number): Promise<CatalogueEvent[]> {
  const events: CatalogueEvent[] = [];
  // The positions ahead are read in parallel, in windows of 1, 2, 4 … 32: a current state costs its one miss, a
  // cold load of many one-event commits (role changes) a few round trips instead of one per commit. A position
  // inside a commit of several events is simply not found.
  for (let next = version + 1, width = 1; ; width = Math.min(width * 2, MAX_READ_AHEAD)) {
    const start = next;
    const found = await Promise.all(Array.from({ length: width }, (_, i) => commits.findOne({ _id: `${streamId}@${start + i}` })));
    const byFrom = new Map(found.flatMap((c) => (c ? [[c.fromVersion, c] as const] : [])));
    for (let commit = byFrom.get(next); commit; commit = byFrom.get(next)) {
      events.push(...commit.events);
      next = commit.toVersion + 1;
    }
    if (next < start + width) return events; // the position `next` was read: nothing there, the stream ends before it
  }
}

/** The most positions `commitsAfter` reads at once. */
const MAX_READ_AHEAD = 32;

/** The loaded state plus the commits after it; true when there were none (it was the stream's current state). */
async function catchUp(deps: OrganizationDeps, organizationId: string, loaded: LoadedOrganization): Promise<boolean> {
  const newer = await commitsAfter(deps.store.commits, organizationStreamId(organizationId), loaded.version);
  for (const e of newer) {
    loaded.state = evolveOrganization(loaded.state, e);
    loaded.version = e.streamVersion;
  }
  return newer.length === 0;
}

/**
 * `trustCache`: a cached state is used as it is, without reading the newer commits (a batch's first attempt:
 * its appends, or `confirm`, tell whether it was current).
 */
async function loadUnlocked(deps: OrganizationDeps, organizationId: string, trustCache = false): Promise<LoadedOrganization> {
  const streamId = organizationStreamId(organizationId);
  let loaded = deps.cache?.get(organizationId);
  if (loaded && trustCache) return loaded;
  if (!loaded) {
    const snap = await snapshots(deps.db).findOne({ _id: streamId });
    loaded =
      snap?.format === SNAPSHOT_FORMAT
        ? { state: OrgAccess.fromSnapshot(JSON.parse(snap.state) as OrgAccessSnapshot), version: snap.version, snapshotVersion: snap.version }
        : { state: initialOrganizationState, version: 0, snapshotVersion: 0 };
  }
  await catchUp(deps, organizationId, loaded);
  if (loaded.version > 0) deps.cache?.set(organizationId, loaded);
  return loaded;
}

/** Cached state (or the latest snapshot) plus only the commits after it. */
export function loadOrganization(deps: OrganizationDeps, organizationId: string): Promise<LoadedOrganization> {
  return deps.cache ? deps.cache.exclusive(organizationId, () => loadUnlocked(deps, organizationId)) : loadUnlocked(deps, organizationId);
}

/**
 * Loads into the cache, one after another in the background, the organizations whose streams were appended to in
 * the last `withinMs` (most recent first, at most `max`, among the newest `lookAt` commits), so that the first command after a start does not pay
 * the snapshot and the newer commits (seconds on FerretDB). A command that arrives meanwhile waits for its
 * organization's load (the organization's lock) rather than starting its own. Returns the organizations loaded.
 */
export async function warmOrganizations(deps: OrganizationDeps, withinMs = 24 * 60 * 60 * 1000, max = 20, lookAt = 5000): Promise<number> {
  if (!deps.cache) return 0;
  // the newest `lookAt` commits of the window, not all of them: on MongoDB a walk of the committedAt index from its
  // end (a busy day holds millions of commits); FerretDB reads the collection either way
  const recent = await deps.store.commits
    .find({ committedAt: { $gte: new Date(Date.now() - withinMs) } }, { projection: { _id: 0, streamId: 1, committedAt: 1 } })
    .sort({ committedAt: -1 })
    .limit(lookAt)
    .toArray();
  const latest = new Map<string, number>();
  for (const { streamId, committedAt } of recent)
    if (streamId.startsWith(ORGANIZATION_STREAM_PREFIX)) latest.set(streamId, Math.max(latest.get(streamId) ?? 0, committedAt.getTime()));
  const organizations = [...latest]
    .sort((a, b) => b[1] - a[1])
    .slice(0, max)
    .map(([streamId]) => streamId.slice(ORGANIZATION_STREAM_PREFIX.length));
  for (const organizationId of organizations) if (!deps.cache.get(organizationId)) await loadOrganization(deps, organizationId);
  return organizations.length;
}

const ORGANIZATION_STREAM_PREFIX = organizationStreamId('');

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
  /** when it was queued (`process.hrtime.bigint()`) */
  queuedAt: bigint;
}

const secondsSince = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

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
  const { metrics } = deps;
  for (const q of queued) metrics?.phase('queued', secondsSince(q.queuedAt));
  metrics?.batch(queued.length);
  const outcomes = await timed(metrics, 'batch', () => batchOutcomes(deps, organizationId, queued, retries)).catch((error: unknown) =>
    queued.map(() => ({ ok: false as const, error })),
  );
  outcomes.forEach((o, i) => {
    metrics?.phase('command', secondsSince(queued[i].queuedAt));
    queued[i].settle(o);
  });
}

function batchOutcomes(deps: OrganizationDeps, organizationId: string, queued: Queued[], retries: number) {
  const { metrics } = deps;
  let attempts = 0;
  const store = metrics
    ? { ...deps.store, appendSequence: (docs: CommitDocument[]) => timed(metrics, 'append', () => deps.store.appendSequence(docs)) }
    : deps.store;
  const sync =
    <A extends unknown[], T>(phase: 'copy' | 'decide', fn: (...args: A) => T) =>
    (...args: A): T => {
      const began = process.hrtime.bigint();
      try {
        return fn(...args);
      } finally {
        metrics?.phase(phase, secondsSince(began));
      }
    };
  return handleCommandBatch<OrganizationState, OrganizationCommand, RoleDefinition[] | undefined, unknown, LoadedOrganization>({
    store,
    streamId: organizationStreamId(organizationId),
    commands: queued.map((q) => ({
      command: q.command,
      meta: q.meta,
      reply: (events, state, roles) => q.reply(events, roles ? state.withCustomRoles(roles) : state),
    })),
    decide: metrics ? sync('decide', decideOrganization) : decideOrganization,
    evolve: evolveOrganization,
    copy: metrics ? sync('copy', copyState) : copyState,
    // the first attempt decides on the cached state as it is; after a conflict (or a failed confirm) it reads
    load: () => timed(metrics, 'load', () => loadUnlocked(deps, organizationId, attempts++ === 0)),
    confirm: (loaded) => timed(metrics, 'confirm', () => catchUp(deps, organizationId, loaded)),
    findEarlier: (commandId) => timed(metrics, 'lookup', () => earlierCommit(deps, commandId)),
    lookUpRefusalsOnly: true,
    input: async (_loaded, commands) =>
      commands.some(weighsRoles) ? timed(metrics, 'input', () => customRolesOf(deps, organizationId, queued[0].meta)) : undefined,
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
        ? timed(metrics, 'markers', () =>
            appliedCommands(deps.db)
              .insertMany(
                appended.map((c) => ({ _id: c.commandId, commitId: c._id })),
                { ordered: false },
              )
              .catch((err) => {
                if (!isDuplicateKey(err) && !duplicateKeyIndexes(err)) throw err;
              }),
          )
        : undefined;
      const snapshot = async () => {
        if (!committed || loaded.version - loaded.snapshotVersion < SNAPSHOT_EVERY) return;
        await timed(metrics, 'snapshot', () => saveSnapshot(deps.db, organizationId, loaded.state, loaded.version));
        loaded.snapshotVersion = loaded.version;
      };
      // a commit that may take a permission away is in JetStream before its command answers (every later
      // request, through any gateway, sees it); the others answer once appended and the relay publishes them
      // meanwhile, their callers reading them through consistency tokens
      const roles = input ? loaded.state.withCustomRoles(input) : loaded.state;
      // (and a new organization: its reply, pinned by the API contract, carries no token, and its creator's
      // next requests, through any gateway, find it by slug in the read model)
      const revokes = [...appended, ...earlier].some((c) => c.events.some((e) => e.type === 'organization.created' || mayRevoke(e, roles)));
      const flush = deps.flush;
      await Promise.all([markers, snapshot(), revokes && flush ? timed(metrics, 'publish', () => flush(organizationStreamId(organizationId))) : undefined]);
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
 * the first, with a little random back-off. Every rule, the grants included, is the decider's; a command id that
 * already ran is not decided again: it gets its first outcome, even if what the actor may do has changed.
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
      queuedAt: process.hrtime.bigint(),
    };
    if (!deps.cache) void runBatch(deps, organizationId, [queued], retries);
    else deps.cache.enqueue(organizationId, queued, (batch) => runBatch(deps, organizationId, batch, retries));
  });
}
