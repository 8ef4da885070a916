/**
 * The audit log's own view of names and memberships, built from the events it projects (never by asking
 * another service): the current name of every user, group, project, role and organization, the
 * organizations each user belongs to (for fanning out user events), and which organization manages an
 * account. It reflects the stream up to the event being projected, so entries capture names as they were.
 */
export interface DirectoryRecord {
  _id: string;
  kind?: 'user' | 'organization' | 'group' | 'project' | 'role';
  name?: string;
  /** users: the organizations they belong to, in the order they joined */
  orgs?: string[];
  /** users: the organization that created the account, if any */
  managedBy?: string | null;
}

export type Directory = ReadonlyMap<string, DirectoryRecord>;

export type DirectoryUpdate =
  | { op: 'name'; id: string; kind: NonNullable<DirectoryRecord['kind']>; name: string }
  | { op: 'join'; userId: string; organizationId: string }
  | { op: 'leave'; userId: string; organizationId: string }
  | { op: 'managed'; userId: string; organizationId: string | null };

/** Applies updates to an in-memory directory (the rebuild, and tests). Idempotent. */
export function applyToMap(map: Map<string, DirectoryRecord>, updates: DirectoryUpdate[]): void {
  for (const u of updates) {
    const id = u.op === 'name' ? u.id : u.userId;
    const rec = map.get(id) ?? { _id: id };
    switch (u.op) {
      case 'name':
        rec.kind = u.kind;
        rec.name = u.name;
        break;
      case 'join':
        if (!(rec.orgs ?? []).includes(u.organizationId)) rec.orgs = [...(rec.orgs ?? []), u.organizationId];
        break;
      case 'leave':
        rec.orgs = (rec.orgs ?? []).filter((o) => o !== u.organizationId);
        break;
      case 'managed':
        rec.managedBy = u.organizationId;
        break;
    }
    map.set(id, rec);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id an event refers to (actor and uuids in its data): what the live projection loads before mapping it. */
export function referencedIds(event: { metadata: { actor: { id: string } }; data: unknown }): string[] {
  const ids = new Set<string>([event.metadata.actor.id]);
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      if (UUID.test(v)) ids.add(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(event.data);
  return [...ids];
}
