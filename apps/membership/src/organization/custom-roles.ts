import type { RoleDefinition } from '@app/access-model';
import { eventsStreamName, isEvent, RoleChanged, RoleCreated, RoleDeleted, type CatalogueEvent, type Naming } from '@app/contracts';
import { consumeEvents, Position, scheduleSnapshots, streamLastSequence, waitUntilApplied, type EventConsumer, type StreamEvent } from '@app/event-store';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { restoreSnapshot, snapshotOf, type CustomRoleMap, type CustomRolesSnapshotStore } from './custom-roles-snapshot';
import { streamInfo } from '@app/messaging';

export type { CustomRoleMap };

/** Folds one event into the map (pure apart from the map it is given); every other event is ignored. */
export function applyRoleEvent(roles: CustomRoleMap, event: CatalogueEvent): void {
  const role = isEvent(event, RoleCreated) || isEvent(event, RoleChanged) ? event.data : undefined;
  const gone = isEvent(event, RoleDeleted) ? event.data : undefined;
  const organizationId = (role ?? gone)?.organizationId.toLowerCase();
  if (!organizationId) return;
  let ofOrg = roles.get(organizationId);
  if (!ofOrg) roles.set(organizationId, (ofOrg = new Map()));
  if (gone) ofOrg.delete(gone.roleId);
  else if (role)
    ofOrg.set(role.roleId, { id: role.roleId, name: role.name, description: role.description, scope: role.scope, permissions: [...role.permissions] });
}

/** Role events are `evt.authorization.role.<verb>.v<N>` (after the namespace prefix): only those are decoded. */
const isRoleSubject = (subject: string) => /(^|\.)evt\.authorization\.role\.(created|changed|deleted)\.v\d+$/.test(subject);

export interface CustomRolesView {
  /**
   * The organization's custom roles as every role event published before this call began defines them (the
   * events stream's last sequence now, one shared stream-info look-up, and a wait until the view has applied
   * it); undefined when the view is not there yet within `waitMs` (e.g. still replaying at start-up).
   */
  current(organizationId: string, waitMs?: number): Promise<RoleDefinition[] | undefined>;
  stop(): Promise<void>;
}

export interface CustomRolesSnapshots {
  store: CustomRolesSnapshotStore;
  /** a snapshot is written when at least this many stream messages were applied since the newest one (default 10,000) */
  everyEvents?: number;
  /** …and at least this long after it (default 60 s) */
  everyMs?: number;
  /** how often that is looked at (default 1 s) */
  checkEveryMs?: number;
}

/**
 * Authorization's custom roles, kept in membership's memory from the role events of the events stream
 * (`consumeEvents`, ordered: every replica reads the stream itself; only the role subjects are decoded). It
 * replaces the `qry.authorization.roles` request (and authorization's read of its access stream) before each
 * decision that weighs roles: a role command answers once its events are in JetStream, so waiting until the view
 * has applied the stream's last sequence gives the same roles as asking authorization's write side.
 *
 * With `snapshots` it starts from the newest snapshot of the view in membership's database and reads the stream
 * only after its sequence (so start-up does not grow with the history), and writes one now and then (when
 * caught up, and when no other replica wrote one recently). A stream that no longer holds the events after the
 * snapshot (trimmed) is refused: a view with a hole could keep a role that the missing events deleted.
 */
export async function startCustomRolesView(deps: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  logger?: EventConsumerLogger;
  snapshots?: CustomRolesSnapshots;
}): Promise<CustomRolesView & { startedFrom: number }> {
  const info = await streamInfo(deps.jsm, eventsStreamName(deps.naming));
  const stream = { name: info.config.name, created: info.created };
  const restored = await deps.snapshots?.store.load(stream, info.state.last_seq, deps.logger);
  const snapshot = restored?.snapshot;
  const from = snapshot?.sequence ?? 0;
  if (info.state.messages > 0 && info.state.first_seq > from + 1)
    throw new Error(
      `custom-roles view: the events stream starts at sequence ${info.state.first_seq}, but the view has only sequence ${from} (snapshot or start): the events in between are gone`,
    );
  const roles: CustomRoleMap = snapshot ? restoreSnapshot(snapshot) : new Map();
  const progress = new Position();
  const consumer: EventConsumer = await consumeEvents({
    name: 'membership-custom-roles',
    js: deps.js,
    jsm: deps.jsm,
    naming: deps.naming,
    mode: 'ordered',
    start: from,
    progress,
    maxBatch: 1000,
    publishDeadLetters: false,
    decode: isRoleSubject,
    logger: deps.logger,
    apply(batch: StreamEvent[]) {
      for (const e of batch) if (e.event) applyRoleEvent(roles, e.event);
    },
  });
  const snapshots = deps.snapshots;
  const writer =
    snapshots &&
    scheduleSnapshots({
      name: 'custom-roles view',
      store: snapshots.store,
      stream,
      schedule: { everyEvents: snapshots.everyEvents ?? 10_000, everyMs: snapshots.everyMs ?? 60_000, checkEveryMs: snapshots.checkEveryMs ?? 1000 },
      position: () => progress.position(),
      // the copy is synchronous: the map exactly as applied up to this position (a role event applied twice
      // after a restore sets or deletes the same role again, so a copy a little ahead of it is harmless too)
      take: () => snapshotOf(roles, progress.position()),
      idle: () => consumer.pending() === 0,
      newest: restored?.head,
      logger: deps.logger,
    });
  return {
    startedFrom: from,
    async current(organizationId, waitMs = 200) {
      const last = await streamLastSequence(deps.jsm, deps.naming);
      if (!(await waitUntilApplied(progress, last, waitMs))) return undefined;
      return [...(roles.get(organizationId.toLowerCase())?.values() ?? [])].map((r) => ({ ...r, permissions: [...r.permissions] }));
    },
    async stop() {
      await writer?.stop();
      await consumer.stop();
    },
  };
}

type EventConsumerLogger = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
