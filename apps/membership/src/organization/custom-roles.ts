import type { RoleDefinition } from '@app/access-model';
import { isEvent, RoleChanged, RoleCreated, RoleDeleted, type CatalogueEvent, type Naming } from '@app/contracts';
import { consumeEvents, Position, streamLastSequence, waitUntilApplied, type EventConsumer, type StreamEvent } from '@app/event-store';
import type { JetStreamClient, JetStreamManager } from 'nats';

/** Per organization, its custom roles by id, as authorization's role events define them. */
export type CustomRoleMap = Map<string, Map<string, RoleDefinition>>;

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

/**
 * Authorization's custom roles, kept in membership's memory from the role events of the events stream
 * (`consumeEvents`, ordered: every replica reads the stream itself; only the role subjects are decoded). It
 * replaces the `qry.authorization.roles` request (and authorization's read of its access stream) before each
 * decision that weighs roles: a role command answers once its events are in JetStream, so waiting until the view
 * has applied the stream's last sequence gives the same roles as asking authorization's write side.
 */
export async function startCustomRolesView(infra: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  logger?: EventConsumerLogger;
}): Promise<CustomRolesView> {
  const roles: CustomRoleMap = new Map();
  const progress = new Position();
  const consumer: EventConsumer = await consumeEvents({
    name: 'membership-custom-roles',
    js: infra.js,
    jsm: infra.jsm,
    naming: infra.naming,
    mode: 'ordered',
    start: 0,
    progress,
    maxBatch: 1000,
    publishDeadLetters: false,
    decode: isRoleSubject,
    logger: infra.logger,
    apply(batch: StreamEvent[]) {
      for (const e of batch) if (e.event) applyRoleEvent(roles, e.event);
    },
  });
  return {
    async current(organizationId, waitMs = 200) {
      const last = await streamLastSequence(infra.jsm, infra.naming);
      if (!(await waitUntilApplied(progress, last, waitMs))) return undefined;
      return [...(roles.get(organizationId.toLowerCase())?.values() ?? [])].map((r) => ({ ...r, permissions: [...r.permissions] }));
    },
    async stop() {
      await consumer.stop();
    },
  };
}

type EventConsumerLogger = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
