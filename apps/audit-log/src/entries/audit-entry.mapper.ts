import type { AuditEntry, DomainEvent } from '@app/contracts';

type Draft = Pick<AuditEntry, 'resource' | 'resourceId' | 'resourceName' | 'operation' | 'description'> & {
  metadata?: Record<string, unknown>;
};

/** What each event type means to an auditor. Unknown types produce no entry (but are acked). */
const describers: Record<string, (e: DomainEvent) => Draft[]> = {
  'user.created.v1': (e) => {
    const d = e.data as { userId: string; username: string; createdBy: string };
    return [
      {
        resource: 'User',
        resourceId: d.userId,
        resourceName: d.username,
        operation: 'Added',
        description: `created user ${d.username}${d.createdBy === 'bootstrap' ? ' (bootstrap)' : ''}`,
        metadata: { createdBy: d.createdBy },
      },
    ];
  },
  'organization.created.v1': (e) => {
    const d = e.data as { organizationId: string; name: string; slug: string; ownerId: string };
    return [
      {
        resource: 'Organization',
        resourceId: d.organizationId,
        resourceName: d.name,
        operation: 'Added',
        description: `created organization ${d.name} (${d.slug})`,
        metadata: { slug: d.slug, ownerId: d.ownerId },
      },
    ];
  },
  'user.api-token-reset.v1': (e) => {
    const d = e.data as { userId: string };
    return [
      {
        resource: 'User',
        resourceId: d.userId,
        resourceName: null,
        operation: 'Modified',
        description: 'reset the personal API token',
      },
    ];
  },
};

/** Pure: one domain event → its audit entries, with ids derived from the event id (rebuilds give the same ids). */
export function toAuditEntries(event: DomainEvent): AuditEntry[] {
  const describe = describers[`${event.type}.v${event.version}`];
  if (!describe) return [];
  return describe(event).map((draft, i) => ({
    id: `${event.id}:${i}`,
    eventId: event.id,
    timestamp: event.occurredAt,
    organizationId: event.organizationId ?? null,
    actor: { id: event.metadata.actor.id, username: event.metadata.actor.username ?? null },
    resource: draft.resource,
    resourceId: draft.resourceId,
    resourceName: draft.resourceName,
    operation: draft.operation,
    description: draft.description,
    medium: event.metadata.medium,
    ip: event.metadata.ip ?? null,
    requestId: event.metadata.requestId ?? null,
    metadata: draft.metadata ?? {},
  }));
}
