import {
  BUILT_IN_ROLE_KEYS,
  builtInRoleId,
  stableUuid,
  type AuditEntry,
  type AuditOperation,
  type AuditResource,
  type CatalogueEvent,
  type DomainEvent,
} from '@app/contracts';
import type { Directory, DirectoryUpdate } from './directory';

/** One entry to write, before it gets its id, time and request context. */
interface Draft {
  /** organizations it goes to; `null` is the log of entries that belong to no organization */
  orgs: Array<string | null>;
  resource: AuditResource;
  resourceId: string;
  resourceName: string | null;
  operation: AuditOperation;
  description: string;
  metadata?: Record<string, unknown>;
}

interface Described {
  drafts: Draft[];
  updates?: DirectoryUpdate[];
}

interface Ctx {
  dir: Directory;
  /** current name of a user, group, project, role or organization as the audit log knows it */
  name(id: string | null | undefined): string | null;
  /** organizations the user belongs to right now; `[null]` when none (the entry still exists, in no organization) */
  fanOut(userId: string): Array<string | null>;
  roleName(organizationId: string, roleId: string): string | null;
}

/** Thrown for an event the audit log cannot map: the projection retries it, then dead-letters it. */
export class UnmappableEvent extends Error {}

/** The events of one type, as the consumer hands them over (checked against the catalogue): `data` typed by its schema. */
type EventOfType<T extends CatalogueEvent['type']> = Extract<CatalogueEvent, { type: T }>;
type Describer<E extends CatalogueEvent = CatalogueEvent> = (e: E, data: E['data'], c: Ctx) => Described;
/** Every event type of the catalogue (all at version 1 today; a new version is a new key) with its describer. */
type Describers = { [T in CatalogueEvent['type'] as `${T}.v1`]: Describer<EventOfType<T>> };

const one = (d: Draft, updates: DirectoryUpdate[] = []): Described => ({ drafts: [d], updates });
/** the event's own organization (organization-scoped events) */
const own = (e: DomainEvent): string[] => {
  if (!e.organizationId) throw new UnmappableEvent(`${e.type}.v${e.version} has no organizationId`);
  return [e.organizationId];
};
const subjectLabel = (c: Ctx, type: string, id: string) => `${type} ${c.name(id) ?? id}`;

/**
 * What each event type means to an auditor, keyed by `<type>.v<version>` (a type two services publish, like
 * `role.assigned` of membership and authorization's legacy one, means the same). Every type of EVENT_CATALOGUE
 * has an entry (a unit test checks it); an event that is the consequence of another one already recorded
 * maps to no entry on purpose, and says why. docs/audit-log.md has the same table.
 */
export const DESCRIBERS: Describers = {
  // ---------------------------------------------------------------- identity (user events, not organization-scoped)
  'user.created.v1': (e, d, c) =>
    one(
      {
        // an account created by an organization belongs to it; the bootstrap admin to no organization yet
        orgs: d.managedByOrganizationId ? [d.managedByOrganizationId] : c.fanOut(d.userId),
        resource: 'User',
        resourceId: d.userId,
        resourceName: d.username,
        operation: 'Added',
        description: `created account ${d.username}${d.createdBy === 'bootstrap' ? ' (bootstrap)' : ''}`,
        metadata: { email: d.email, name: d.name, createdBy: d.createdBy, mustChangePassword: d.temporaryPassword },
      },
      [
        { op: 'name', id: d.userId, kind: 'user', name: d.username },
        { op: 'managed', userId: d.userId, organizationId: d.managedByOrganizationId ?? null },
      ],
    ),
  // ---------------------------------------------------------------- identity: service accounts (organization-scoped)
  // the token's name, never the token (nor its id, as for personal tokens); the account's name stays in the entries after its deletion
  'service-account.created.v1': (e, d) =>
    one(
      {
        orgs: own(e),
        resource: 'ServiceAccount',
        resourceId: d.serviceAccountId,
        resourceName: d.name,
        operation: 'Added',
        description: `created service account ${d.name}`,
        metadata: { description: d.description, createdBy: d.createdBy },
      },
      [{ op: 'name', id: d.serviceAccountId, kind: 'user', name: d.name }],
    ),
  'service-account.details-changed.v1': (e, d) =>
    one(
      {
        orgs: own(e),
        resource: 'ServiceAccount',
        resourceId: d.serviceAccountId,
        resourceName: d.name,
        operation: 'Modified',
        description:
          d.name === d.previousName ? `changed the description of service account ${d.name}` : `renamed service account ${d.previousName} to ${d.name}`,
        metadata: { name: d.name, previousName: d.previousName, description: d.description },
      },
      [{ op: 'name', id: d.serviceAccountId, kind: 'user', name: d.name }],
    ),
  'service-account.deactivated.v1': (e, d) =>
    one({
      orgs: own(e),
      resource: 'ServiceAccount',
      resourceId: d.serviceAccountId,
      resourceName: d.name,
      operation: 'Modified',
      description: `deactivated service account ${d.name}`,
      metadata: { active: false },
    }),
  'service-account.reactivated.v1': (e, d) =>
    one({
      orgs: own(e),
      resource: 'ServiceAccount',
      resourceId: d.serviceAccountId,
      resourceName: d.name,
      operation: 'Modified',
      description: `reactivated service account ${d.name}`,
      metadata: { active: true },
    }),
  'service-account.deleted.v1': (e, d) =>
    one({
      orgs: own(e),
      resource: 'ServiceAccount',
      resourceId: d.serviceAccountId,
      resourceName: d.name,
      operation: 'Removed',
      description: `deleted service account ${d.name} (every token of it revoked)`,
    }),
  'service-account.token-created.v1': (e, d, c) =>
    one({
      orgs: own(e),
      resource: 'ServiceAccount',
      resourceId: d.serviceAccountId,
      resourceName: c.name(d.serviceAccountId),
      operation: 'Modified',
      description: `created token ${d.name}${d.expiresAt ? ` (expires ${d.expiresAt})` : ''}`,
      metadata: { tokenName: d.name, expiresAt: d.expiresAt },
    }),
  'service-account.token-revoked.v1': (e, d, c) =>
    one({
      orgs: own(e),
      resource: 'ServiceAccount',
      resourceId: d.serviceAccountId,
      resourceName: c.name(d.serviceAccountId),
      operation: 'Modified',
      description: `revoked token ${d.name}`,
      metadata: { tokenName: d.name },
    }),
  'user.api-token-reset.v1': (e, d, c) =>
    one({
      orgs: c.fanOut(d.userId),
      resource: 'User',
      resourceId: d.userId,
      resourceName: c.name(d.userId),
      operation: 'Modified',
      description: 'reset the personal API token',
    }),
  // the managing organization's password reset revoked the token (the account may be compromised): an entry of
  // its own in that organization, next to the reset's, so an auditor sees that the token stopped working
  'user.api-token-revoked.v1': (e, d, c) =>
    one({
      orgs: [d.organizationId],
      resource: 'User',
      resourceId: d.userId,
      resourceName: c.name(d.userId),
      operation: 'Modified',
      description: 'revoked the personal API token (the password was reset by the organization)',
      metadata: { reason: d.reason },
    }),
  'user.username-changed.v1': (e, d, c) =>
    one(
      {
        orgs: c.fanOut(d.userId),
        resource: 'User',
        resourceId: d.userId,
        resourceName: d.username,
        operation: 'Modified',
        description: `changed username from ${d.previousUsername} to ${d.username}`,
        metadata: { username: d.username, previousUsername: d.previousUsername },
      },
      [{ op: 'name', id: d.userId, kind: 'user', name: d.username }],
    ),
  'user.screen-name-changed.v1': (e, d, c) =>
    one({
      orgs: c.fanOut(d.userId),
      resource: 'User',
      resourceId: d.userId,
      resourceName: c.name(d.userId),
      operation: 'Modified',
      description: `changed name from "${d.previousName}" to "${d.name}"`,
      metadata: { name: d.name, previousName: d.previousName },
    }),
  'user.email-changed.v1': (e, d, c) =>
    one({
      orgs: c.fanOut(d.userId),
      resource: 'User',
      resourceId: d.userId,
      resourceName: c.name(d.userId),
      operation: 'Modified',
      description: `changed email from ${d.previousEmail} to ${d.email}`,
      metadata: { email: d.email, previousEmail: d.previousEmail },
    }),
  'user.password-set.v1': (e, d, c) =>
    one({
      // a reset by the managing organization concerns that organization; the user's own change all of theirs
      orgs: d.reason === 'reset' && d.organizationId ? [d.organizationId] : c.fanOut(d.userId),
      resource: 'User',
      resourceId: d.userId,
      resourceName: c.name(d.userId),
      operation: 'Modified',
      description:
        d.reason === 'reset'
          ? 'reset the password to a temporary one (must be changed at next login; sessions ended)'
          : d.reason === 'first-login'
            ? 'set a password at first login'
            : 'changed the password',
      metadata: { reason: d.reason, temporary: d.temporary },
    }),
  // the consequence of user.password-set, which is recorded
  'user.sessions-ended.v1': () => ({ drafts: [] }),

  // ---------------------------------------------------------------- membership (organization-scoped)
  'organization.created.v1': (e, d) =>
    one(
      {
        orgs: own(e),
        resource: 'Organization',
        resourceId: d.organizationId,
        resourceName: d.name,
        operation: 'Added',
        description: `created organization ${d.name} (${d.slug})`,
        metadata: { slug: d.slug, ownerId: d.ownerId },
      },
      [
        { op: 'name', id: d.organizationId, kind: 'organization', name: d.name },
        { op: 'join', userId: d.ownerId, organizationId: d.organizationId },
      ],
    ),
  'organization.member-added.v1': (e, d, c) => {
    const updates: DirectoryUpdate[] = [
      { op: 'join', userId: d.userId, organizationId: d.organizationId },
      { op: 'name', id: d.userId, kind: 'user', name: d.username },
    ];
    // Part of a change already recorded: the creator of an organization (organization.created) and an account
    // this organization just created (user.created). Everyone else (invited, existing accounts) is an entry.
    const recorded = d.via === 'creator' || d.via === 'bootstrap' || (d.via === 'account' && c.dir.get(d.userId)?.managedBy === d.organizationId);
    if (recorded) return { drafts: [], updates };
    const role = c.roleName(d.organizationId, d.roleId);
    return one(
      {
        orgs: own(e),
        resource: 'Member',
        resourceId: d.userId,
        resourceName: d.username,
        operation: 'Added',
        description: `added ${d.username} to the organization${role ? ` as ${role}` : ''}`,
        metadata: { roleId: d.roleId, roleName: role, via: d.via },
      },
      updates,
    );
  },
  'organization.member-removed.v1': (e, d) =>
    one(
      {
        orgs: own(e),
        resource: 'Member',
        resourceId: d.userId,
        resourceName: d.username,
        operation: 'Removed',
        description: `removed ${d.username} from the organization`,
        metadata: { groupIds: d.groupIds },
      },
      [{ op: 'leave', userId: d.userId, organizationId: d.organizationId }],
    ),
  'group.created.v1': (e, d, c) =>
    one(
      {
        orgs: own(e),
        resource: 'Group',
        resourceId: d.groupId,
        resourceName: d.name,
        operation: 'Added',
        description: `created group ${d.name} with ${d.memberIds.length} member(s)`,
        metadata: {
          description: d.description,
          memberIds: d.memberIds,
          members: d.memberIds.map((id: string) => c.name(id)),
          roleId: d.roleId,
          roleName: c.roleName(d.organizationId, d.roleId),
        },
      },
      [{ op: 'name', id: d.groupId, kind: 'group', name: d.name }],
    ),
  'group.details-changed.v1': (e, d) =>
    one(
      {
        orgs: own(e),
        resource: 'Group',
        resourceId: d.groupId,
        resourceName: d.name,
        operation: 'Modified',
        description: d.name === d.previousName ? `changed the description of group ${d.name}` : `renamed group ${d.previousName} to ${d.name}`,
        metadata: { name: d.name, previousName: d.previousName, description: d.description },
      },
      [{ op: 'name', id: d.groupId, kind: 'group', name: d.name }],
    ),
  'group.member-added.v1': (e, d, c) =>
    one({
      orgs: own(e),
      resource: 'Group',
      resourceId: d.groupId,
      resourceName: d.groupName,
      operation: 'Modified',
      description: `added ${c.name(d.userId) ?? d.userId} to group ${d.groupName}`,
      metadata: { change: 'member-added', userId: d.userId, username: c.name(d.userId) },
    }),
  'group.member-removed.v1': (e, d, c) =>
    one({
      orgs: own(e),
      resource: 'Group',
      resourceId: d.groupId,
      resourceName: d.groupName,
      operation: 'Modified',
      description: `removed ${c.name(d.userId) ?? d.userId} from group ${d.groupName}`,
      metadata: { change: 'member-removed', userId: d.userId, username: c.name(d.userId) },
    }),
  'group.deleted.v1': (e, d) =>
    one({ orgs: own(e), resource: 'Group', resourceId: d.groupId, resourceName: d.name, operation: 'Removed', description: `deleted group ${d.name}` }),
  'project.created.v1': (e, d, c) =>
    one(
      {
        orgs: own(e),
        resource: 'Project',
        resourceId: d.projectId,
        resourceName: d.name,
        operation: 'Added',
        description: `created project ${d.name}`,
        metadata: { ownerId: d.ownerId, ownerUsername: c.name(d.ownerId) },
      },
      [{ op: 'name', id: d.projectId, kind: 'project', name: d.name }],
    ),
  'project.owner-changed.v1': (e, d, c) =>
    one(
      {
        orgs: own(e),
        resource: 'Project',
        resourceId: d.projectId,
        resourceName: d.name,
        operation: 'Modified',
        description: `transferred project ${d.name} to ${c.name(d.ownerId) ?? d.ownerId}`,
        metadata: { ownerId: d.ownerId, ownerUsername: c.name(d.ownerId), previousOwnerId: d.previousOwnerId },
      },
      [{ op: 'name', id: d.projectId, kind: 'project', name: d.name }],
    ),
  'project.deleted.v1': (e, d) =>
    one({ orgs: own(e), resource: 'Project', resourceId: d.projectId, resourceName: d.name, operation: 'Removed', description: `deleted project ${d.name}` }),
  // a restatement of bindings already recorded one by one (the legacy role.assigned / role.unassigned entries), written
  // once by the migration that moved bindings to the organization stream: it changes nothing anyone can do
  'organization.bindings-imported.v1': () => ({ drafts: [] }),

  // ---------------------------------------------------------------- authorization (organization-scoped)
  'role.created.v1': (e, d) =>
    one(
      {
        orgs: own(e),
        resource: 'Role',
        resourceId: d.roleId,
        resourceName: d.name,
        operation: 'Added',
        description: `created ${d.scope} role ${d.name}`,
        metadata: { scope: d.scope, description: d.description, permissions: d.permissions },
      },
      [{ op: 'name', id: d.roleId, kind: 'role', name: d.name }],
    ),
  'role.changed.v1': (e, d) =>
    one(
      {
        orgs: own(e),
        resource: 'Role',
        resourceId: d.roleId,
        resourceName: d.name,
        operation: 'Modified',
        description: d.name === d.previousName ? `changed role ${d.name}` : `changed role ${d.previousName} (now ${d.name})`,
        metadata: { scope: d.scope, name: d.name, previousName: d.previousName, description: d.description, permissions: d.permissions },
      },
      [{ op: 'name', id: d.roleId, kind: 'role', name: d.name }],
    ),
  'role.deleted.v1': (e, d) =>
    one({ orgs: own(e), resource: 'Role', resourceId: d.roleId, resourceName: d.name, operation: 'Removed', description: `deleted ${d.scope} role ${d.name}` }),
  // bindings: membership's, and authorization's legacy ones (same type and data) alike
  'role.assigned.v1': (e, d, c) => bindingEntry(e, d, c, 'assigned'),
  'role.unassigned.v1': (e, d, c) => bindingEntry(e, d, c, 'unassigned'),
};

/**
 * A role binding: in a project it changes the project's members (resource Project); in the organization it
 * changes the user (Member) or the group (Group).
 */
type Binding = EventOfType<'role.assigned' | 'role.unassigned'>;
const previousOf = (d: Binding['data']): string | null | undefined => ('previousRoleId' in d ? d.previousRoleId : undefined);
function bindingEntry(e: Binding, d: Binding['data'], c: Ctx, change: 'assigned' | 'unassigned'): Described {
  const subject = subjectLabel(c, d.subjectType, d.subjectId);
  const metadata = {
    subjectType: d.subjectType,
    subjectId: d.subjectId,
    subjectName: c.name(d.subjectId),
    roleId: d.roleId,
    roleName: d.roleName,
    ...(change === 'assigned' ? { previousRoleId: previousOf(d), previousRoleName: previousOf(d) ? c.roleName(d.organizationId, previousOf(d)!) : null } : {}),
    ...(d.projectId ? { projectId: d.projectId } : {}),
  };
  if (d.projectId) {
    const project = c.name(d.projectId);
    return one({
      orgs: own(e),
      resource: 'Project',
      resourceId: d.projectId,
      resourceName: project,
      operation: 'Modified',
      description:
        change === 'assigned'
          ? `gave ${subject} the role ${d.roleName} in project ${project ?? d.projectId}`
          : `removed ${subject} (${d.roleName}) from project ${project ?? d.projectId}`,
      metadata,
    });
  }
  return one({
    orgs: own(e),
    resource: d.subjectType === 'group' ? 'Group' : 'Member',
    resourceId: d.subjectId,
    resourceName: c.name(d.subjectId),
    operation: 'Modified',
    description: change === 'assigned' ? `gave ${subject} the organization role ${d.roleName}` : `took the organization role ${d.roleName} from ${subject}`,
    metadata,
  });
}

const BUILT_IN_NAMES: Record<string, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  'project-admin': 'Project Admin',
  'project-contributor': 'Project Contributor',
  'project-reader': 'Project Reader',
};

function context(dir: Directory): Ctx {
  return {
    dir,
    name: (id) => (id ? (dir.get(id)?.name ?? null) : null),
    fanOut: (userId) => {
      const orgs = dir.get(userId)?.orgs ?? [];
      return orgs.length ? orgs : [null];
    },
    roleName: (organizationId, roleId) => {
      const known = dir.get(roleId)?.name;
      if (known) return known;
      const key = BUILT_IN_ROLE_KEYS.find((k) => builtInRoleId(organizationId, k) === roleId);
      return key ? BUILT_IN_NAMES[key] : null;
    },
  };
}

/** An entry as stored: its API fields plus the keys queries sort and filter on. */
export type StoredEntry = AuditEntry & {
  /** `<timestamp>|<stream sequence, 12 digits>|<index in the event>`: the keyset order, newest first */
  sortKey: string;
  sequence: number;
  actorId: string;
};

/** Entry id: the same for the same (event, organization, index), so a redelivery or a rebuild writes the same ids. */
export const entryId = (eventId: string, organizationId: string | null, index: number): string =>
  stableUuid(`audit-entry:${eventId}:${organizationId ?? 'none'}:${index}`);

export const sortKeyOf = (timestamp: string, sequence: number, index: number): string => `${timestamp}|${String(sequence).padStart(12, '0')}|${index}`;

/**
 * Pure: one domain event, the directory as it was before it, and its stream sequence → the entries to write
 * and the directory updates it implies. Throws UnmappableEvent for a type without a mapping.
 */
export function projectEvent(event: CatalogueEvent, dir: Directory, sequence: number): { entries: StoredEntry[]; updates: DirectoryUpdate[] } {
  const key = `${event.type}.v${event.version}`;
  // the table is keyed by the event's own type: the describer found takes this event (the one widening here)
  const describe = Object.hasOwn(DESCRIBERS, key) ? (DESCRIBERS as unknown as Record<string, Describer>)[key] : undefined;
  if (!describe) throw new UnmappableEvent(`no audit mapping for ${event.type}.v${event.version}`);
  const c = context(dir);
  const { drafts, updates = [] } = describe(event, event.data, c);
  const timestamp = new Date(event.occurredAt).toISOString();
  // an unauthenticated request (POST /auth/password) acts on the user it names: that user is the actor
  const subject = 'userId' in event.data ? event.data.userId : undefined;
  const actor =
    event.metadata.actor.id === 'anonymous' && typeof subject === 'string' ? { id: subject, username: c.name(subject) ?? undefined } : event.metadata.actor;
  const perOrg = new Map<string | null, number>();
  const entries: StoredEntry[] = [];
  for (const draft of drafts) {
    for (const org of draft.orgs) {
      const indexInOrg = perOrg.get(org) ?? 0;
      perOrg.set(org, indexInOrg + 1);
      entries.push({
        id: entryId(event.id, org, indexInOrg),
        eventId: event.id,
        timestamp,
        organizationId: org,
        actor: { id: actor.id, username: c.name(actor.id) ?? actor.username ?? null },
        resource: draft.resource,
        resourceId: draft.resourceId,
        resourceName: draft.resourceName,
        operation: draft.operation,
        description: draft.description,
        medium: event.metadata.medium,
        ip: event.metadata.ip ?? null,
        requestId: event.metadata.requestId ?? null,
        metadata: draft.metadata ?? {},
        sortKey: sortKeyOf(timestamp, sequence, entries.length),
        sequence,
        actorId: actor.id,
      });
    }
  }
  return { entries, updates };
}
