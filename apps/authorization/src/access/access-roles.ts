import { OrgAccess, type RoleDefinition } from '@app/access-model';
import type { EventStore } from '@app/event-store';
import { accessStreamId } from './access.decider';

/**
 * An organization's custom roles as authorization's write side has them: its `access-<organizationId>` stream
 * in the event store, folded with the shared fold (`OrgAccess.apply`). This is what membership decides grants
 * with (`qry.authorization.roles`, asked right before each decision): a role created or changed a moment ago
 * is there even when the view has not applied it yet. Per process the fold of each recently asked stream is
 * kept, and only its newer commits are read (a `streamId` query, as the command runner's version read).
 */
export class AccessRoles {
  private readonly folds = new Map<string, { version: number; org: OrgAccess }>();

  constructor(
    private readonly store: EventStore,
    private readonly max = 1000,
  ) {}

  async of(organizationId: string): Promise<RoleDefinition[]> {
    const fold = this.folds.get(organizationId) ?? { version: 0, org: new OrgAccess(organizationId) };
    const newer = await this.store.readStream(accessStreamId(organizationId), fold.version);
    // concurrent calls share the fold: each event is applied once, in version order
    for (const e of newer)
      if (e.streamVersion > fold.version) {
        fold.org.apply(e);
        fold.version = e.streamVersion;
      }
    this.folds.delete(organizationId);
    if (this.folds.size >= this.max) this.folds.delete(this.folds.keys().next().value!);
    this.folds.set(organizationId, fold);
    return [...fold.org.roles.values()]
      .filter((r) => !r.builtIn)
      .map((r) => ({ id: r.id, name: r.name, description: r.description, scope: r.scope, permissions: [...r.permissions] }));
  }
}
