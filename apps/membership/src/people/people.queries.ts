import type { Db, Filter } from 'mongodb';
import {
  builtInRoleId,
  DomainError,
  ErrorCode,
  type GetGroupRequest,
  type GetProjectRequest,
  type GroupView,
  type ListGroupsRequest,
  type ListPeopleRequest,
  type ListProjectsRequest,
  type Naming,
  type OrganizationView,
  type Page,
  type PersonView,
  type ProjectView,
} from '@app/contracts';
import { mongoCheckpoint, sharedProgress, streamLastSequence, waitUntilApplied, type Progress } from '@app/event-store';
import type { JetStreamManager } from 'nats';
import {
  builtInRoleName,
  groupMembers,
  orgMeta,
  orgVersions,
  peopleOf,
  roleNames,
  servedByMongo,
  usersView,
  type OrganizationMetaDocument,
  type PersonDocument,
} from './people.model';
import { PEOPLE_PROJECTION } from './people.projection';
import { searchCandidates } from './people.search';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

/**
 * Read-your-writes: waits until the read model has applied everything in the events stream at the time of
 * the call (every write that returned before this query started is in it). The projection's shared checkpoint
 * counts, so it also works when another replica applied the events.
 */
export async function waitForReadModel(deps: { db: Db; jsm: JetStreamManager; naming: Naming; projection?: Progress }, timeoutMs = 10_000): Promise<void> {
  const progress = deps.projection ?? sharedProgress(() => mongoCheckpoint(deps.db, PEOPLE_PROJECTION).read()); // not started here yet
  if (!(await waitUntilApplied(progress, await streamLastSequence(deps.jsm, deps.naming), timeoutMs)))
    throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the people list is catching up; try again');
}

/**
 * An organization's `organizations_view` document (groups and projects included: 1,000 groups make it
 * ~150 KB, which FerretDB takes tens of ms to decode), cached per process and re-read when the
 * organization's small version document says it changed.
 */
const metaCache = new WeakMap<Db, Map<string, { v: number; meta: OrganizationMetaDocument }>>();
export async function getMeta(db: Db, organizationId: string): Promise<OrganizationMetaDocument> {
  const v = (await orgVersions(db).findOne({ _id: organizationId }))?.v ?? 0;
  let cache = metaCache.get(db);
  if (!cache) metaCache.set(db, (cache = new Map()));
  const cached = cache.get(organizationId);
  if (cached && cached.v === v) return cached.meta;
  const meta = await orgMeta(db).findOne({ _id: organizationId });
  if (!meta) throw notFound('organization');
  if (cache.size >= 1000) cache.clear();
  cache.set(organizationId, { v, meta });
  return meta;
}

export const organizationView = (m: OrganizationMetaDocument): OrganizationView => ({ id: m._id, name: m.name, slug: m.slug });

export async function myOrganizations(db: Db, userId: string): Promise<Page<OrganizationView>> {
  const user = await usersView(db).findOne({ _id: userId });
  const metas = await Promise.all((user?.orgIds ?? []).map((id) => orgMeta(db).findOne({ _id: id })));
  const items = metas.filter((m): m is OrganizationMetaDocument => !!m).map(organizationView);
  items.sort((a, b) => a.name.localeCompare(b.name));
  return { items, nextCursor: null };
}

/** NOT_FOUND unless the user is a member (used when a request names the caller). */
export async function requireMember(db: Db, organizationId: string, userId: string): Promise<void> {
  const user = await usersView(db).findOne({ _id: userId });
  if (!user?.orgIds?.includes(organizationId)) throw notFound('organization');
}

const encodeCursor = (key: string) => Buffer.from(key).toString('base64url');
function decodeCursor(cursor: string | undefined): string {
  if (cursor === undefined || cursor === '') return '';
  const key = Buffer.from(cursor, 'base64url').toString();
  if (!/^[0-9]{16}$/.test(key)) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'cursor is not valid');
  return key;
}
/** The page size (the message contract keeps it within 1..MAX_LIMIT). */
export const limitOf = (limit: number | undefined): number => limit ?? DEFAULT_LIMIT;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Organization roles by id: built-in names, custom ones from `role_names_view`. A role that does not exist (a
 * binding that raced the deletion of its custom role) is shown as what it counts as everywhere: Member
 * (docs/architecture.md, "Concurrency").
 */
async function roleResolver(db: Db, organizationId: string, roleIds: Iterable<string>): Promise<(id: string) => { id: string; name: string }> {
  const known = new Map<string, { id: string; name: string }>();
  await Promise.all(
    [...new Set(roleIds)].map(async (id) => {
      const name = builtInRoleName(organizationId, id) ?? (await roleNames(db).findOne({ _id: id }))?.name;
      if (name) known.set(id, { id, name });
    }),
  );
  const member = { id: memberRoleOf(organizationId), name: 'Member' };
  return (id) => known.get(id) ?? member;
}

/**
 * Looking the matches up one by one, or scanning in join order until a page is full? Costs measured on
 * FerretDB v1/SQLite: a look-up ~5 ms plus ~1 µs per row of the collection (SQLite reads the table), a
 * scanned row ~100 µs (decoded and filtered); a scan reads about rows × wanted / matches rows.
 */
async function lookUpsAreCheaper(db: Db, organizationId: string, matches: number, wanted: number): Promise<boolean> {
  const rows = Math.max(1, (await orgVersions(db).findOne({ _id: organizationId }))?.n ?? 1);
  const lookUpsMs = Math.min(matches, wanted) * (5 + rows / 1000);
  const scanMs = Math.min(rows, (wanted * rows) / matches) * 0.1;
  return lookUpsMs <= scanMs;
}

/** Candidates from the search index, by `_id` look-ups in chunks, checked against the rest of the filter. */
async function fetchMatching(db: Db, organizationId: string, keys: string[], filter: Filter<PersonDocument>, wanted: number): Promise<PersonDocument[]> {
  const out: PersonDocument[] = [];
  const roleIds = (filter.$or as Array<{ roleId?: string; groupIds?: { $in: string[] } }> | undefined) ?? undefined;
  const matches = (p: PersonDocument) =>
    (filter.type === undefined || p.type === filter.type) &&
    (!roleIds || roleIds.some((c) => (c.roleId !== undefined && p.roleId === c.roleId) || (c.groupIds && p.groupIds.some((g) => c.groupIds!.$in.includes(g)))));
  for (let i = 0; i < keys.length && out.length < wanted; i += wanted) {
    const docs = await Promise.all(keys.slice(i, i + wanted).map((_id) => peopleOf(db, organizationId).findOne({ _id })));
    for (const d of docs) if (d && matches(d) && out.length < wanted) out.push(d);
  }
  return out;
}

/**
 * One page of an organization's people and groups, in the order they joined. The scan reads the
 * organization's own collection from the cursor on and stops after `limit + 1` matches.
 */
export async function listPeople(db: Db, req: ListPeopleRequest): Promise<Page<PersonView>> {
  const meta = await getMeta(db, req.organizationId);
  const limit = limitOf(req.limit);
  const afterKey = decodeCursor(req.cursor);
  const filter: Filter<PersonDocument> = { _id: { $gt: afterKey } };
  if (req.type !== undefined) filter.type = req.type;
  if (req.search !== undefined && req.search.trim() !== '') {
    filter.search = { $regex: `^${escapeRegex(req.search.trim().toLowerCase())}` };
  }
  if (req.roleId !== undefined) {
    const viaGroups = Object.entries(meta.groups)
      .filter(([, g]) => g.roleId === req.roleId)
      .map(([id]) => id);
    filter.$or = [{ roleId: req.roleId }, ...(viaGroups.length ? [{ groupIds: { $in: viaGroups } }] : [])];
  }
  const search = req.search?.trim().toLowerCase() ?? '';
  let candidates = search ? await searchCandidates(db, req.organizationId, search, afterKey) : undefined;
  if (candidates?.length && !(await lookUpsAreCheaper(db, req.organizationId, candidates.length, limit + 1))) candidates = undefined;
  let docs: PersonDocument[];
  if (candidates) {
    docs = await fetchMatching(db, req.organizationId, candidates, filter, limit + 1);
  } else {
    let cursor = peopleOf(db, req.organizationId)
      .find(filter)
      .limit(limit + 1);
    // MongoDB answers this from the _id index in _id order; FerretDB v1 cannot push a sort down (it would
    // read and sort the whole collection) and returns its table in insertion order, which is _id order here.
    if (await servedByMongo(db)) cursor = cursor.sort({ _id: 1 });
    docs = await cursor.toArray();
  }
  const page = docs.slice(0, limit);

  const groupRole = (groupId: string) => meta.groups[groupId]?.roleId;
  const roleIds = page.flatMap((p) => [p.roleId, ...p.groupIds.map(groupRole).filter((r): r is string => !!r)]);
  const role = await roleResolver(db, req.organizationId, roleIds);
  const items = page.map((p): PersonView => {
    const roles: PersonView['roles'] = [{ ...role(p.roleId), source: 'direct' }];
    const groups = p.groupIds.filter((g) => meta.groups[g]).map((g) => ({ id: g, name: meta.groups[g].name }));
    for (const g of groups) {
      const r = role(groupRole(g.id)!);
      if (!roles.some((x) => x.id === r.id && x.source === 'group')) roles.push({ ...r, source: 'group' });
    }
    return {
      type: p.type,
      id: p.id,
      name: p.name,
      ...(p.username ? { username: p.username } : {}),
      ...(p.email ? { email: p.email } : {}),
      roles,
      groups,
    };
  });
  return { items, nextCursor: docs.length > limit ? encodeCursor(page[page.length - 1]._id) : null };
}

function paginateMap<T extends { seq: number }, V>(
  entries: Record<string, T>,
  cursor: string | undefined,
  limit: number,
  view: (id: string, v: T) => V,
): Page<V> {
  const after = cursor ? Number(decodeCursor(cursor)) : 0;
  const sorted = Object.entries(entries)
    .filter(([, v]) => v.seq > after)
    .sort(([, a], [, b]) => a.seq - b.seq);
  const page = sorted.slice(0, limit);
  return {
    items: page.map(([id, v]) => view(id, v)),
    nextCursor: sorted.length > limit ? encodeCursor(String(page[page.length - 1][1].seq).padStart(16, '0')) : null,
  };
}

async function groupView(db: Db, meta: OrganizationMetaDocument, groupId: string): Promise<GroupView> {
  const g = Object.hasOwn(meta.groups, groupId) ? meta.groups[groupId] : undefined;
  if (!g) throw notFound('group');
  const members = await groupMembers(db).findOne({ _id: groupId });
  const role = await roleResolver(db, meta._id, [g.roleId]);
  return { id: groupId, name: g.name, description: g.description, memberIds: members?.memberIds ?? [], role: role(g.roleId) };
}

export async function listGroups(db: Db, req: ListGroupsRequest): Promise<Page<GroupView>> {
  const meta = await getMeta(db, req.organizationId);
  const page = paginateMap(meta.groups, req.cursor, limitOf(req.limit), (id) => id);
  return { items: await Promise.all(page.items.map((id) => groupView(db, meta, id))), nextCursor: page.nextCursor };
}

export async function getGroup(db: Db, req: GetGroupRequest): Promise<GroupView> {
  return groupView(db, await getMeta(db, req.organizationId), req.groupId);
}

export async function listProjects(db: Db, req: ListProjectsRequest): Promise<Page<ProjectView>> {
  const meta = await getMeta(db, req.organizationId);
  return paginateMap(meta.projects, req.cursor, limitOf(req.limit), (id, p) => ({ id, name: p.name, ownerId: p.ownerId }));
}

export async function getProject(db: Db, req: GetProjectRequest): Promise<ProjectView> {
  const meta = await getMeta(db, req.organizationId);
  const p = Object.hasOwn(meta.projects, req.projectId) ? meta.projects[req.projectId] : undefined;
  if (!p) throw notFound('project');
  return { id: req.projectId, name: p.name, ownerId: p.ownerId };
}

export const memberRoleOf = (organizationId: string) => builtInRoleId(organizationId, 'member');
