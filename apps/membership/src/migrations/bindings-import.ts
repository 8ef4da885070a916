import { OrgAccess, type SubjectBindings } from '@app/access-model';
import { OrganizationBindingsImported, organizationIdOf, type CatalogueEvent, type NewEvent } from '@app/contracts';
import { organizationStreamId } from '../organization/organization.state';

/**
 * The one-off move of role bindings from authorization's `access-<org>` streams (legacy `role.assigned` /
 * `role.unassigned` of authorization) to the organization streams (docs/operations.md, "Moving role bindings").
 * Pure: the history in its JetStream order in, for each organization that needs it the events to append and the
 * version of its organization stream to append them after.
 *
 * The history is folded with the shared fold, in JetStream order, as authorization's view folded it: that order
 * is what decided who held what (a person removed and added again comes back without the bindings of before,
 * whichever stream they were on). A copy of an event (a re-publish beyond JetStream's duplicate window) is
 * skipped by its stream version.
 */

/** Subjects per `organization.bindings-imported` event: each stays well below NATS's 1 MB message limit. */
export const SUBJECTS_PER_EVENT = 5000;

export interface OrganizationFold {
  org: OrgAccess;
  /** the last version of `organization-<id>` in the history */
  version: number;
  /** a legacy binding event of authorization was seen */
  legacy: boolean;
}

export class LegacyHistoryFold {
  readonly orgs = new Map<string, OrganizationFold>();
  private readonly versions = new Map<string, number>();

  apply(event: CatalogueEvent): void {
    if (event.service !== 'membership' && event.service !== 'authorization') return;
    const organizationId = organizationIdOf(event);
    if (!organizationId) return;
    if (event.streamVersion <= (this.versions.get(event.streamId) ?? 0)) return; // a copy
    this.versions.set(event.streamId, event.streamVersion);
    let fold = this.orgs.get(organizationId);
    if (!fold) this.orgs.set(organizationId, (fold = { org: new OrgAccess(organizationId), version: 0, legacy: false }));
    fold.org.apply(event);
    if (event.streamId === organizationStreamId(organizationId)) fold.version = event.streamVersion;
    if (event.service === 'authorization' && (event.type === 'role.assigned' || event.type === 'role.unassigned')) fold.legacy = true;
  }
}

export interface ImportPlan {
  organizationId: string;
  /** append after this version of `organization-<organizationId>` */
  expectedVersion: number;
  events: NewEvent[];
}

/** `organization.bindings-imported` restating every binding, in events of at most SUBJECTS_PER_EVENT subjects (one commit). */
export function importEvents(org: OrgAccess): NewEvent[] {
  const subjects: SubjectBindings[] = org.bindings();
  const events: NewEvent[] = [];
  for (let i = 0; i === 0 || i < subjects.length; i += SUBJECTS_PER_EVENT)
    events.push({
      type: OrganizationBindingsImported.type,
      version: OrganizationBindingsImported.version,
      organizationId: org.id,
      data: { organizationId: org.id, subjects: subjects.slice(i, i + SUBJECTS_PER_EVENT) },
    });
  return events;
}

/** The organizations that had legacy bindings and were not imported yet (a second run plans nothing). */
export function importPlans(fold: LegacyHistoryFold): ImportPlan[] {
  const plans: ImportPlan[] = [];
  for (const [organizationId, f] of fold.orgs)
    if (f.legacy && !f.org.imported && f.version > 0) plans.push({ organizationId, expectedVersion: f.version, events: importEvents(f.org) });
  return plans;
}
