import {
  builtInRoleId,
  BUILT_IN_ROLE_KEYS,
  DomainError,
  ErrorCode,
  type BuiltInRoleKey,
  type GetGroupRequest,
  type GetProjectRequest,
  type GroupView,
  type ListGroupsRequest,
  type ListPeopleRequest,
  type ListProjectsRequest,
  type OrganizationView,
  type Page,
  type PersonView,
  type ProjectView,
} from '@app/contracts';
import { JsonText } from '@app/messaging';
import { countPrefix, hasPrefix, peopleWithPrefix } from './people.search';
import { seqIndex, type Group, type Organization, type PeopleModel, type Person } from './people.view';

/** Answers from the in-memory model (`people.view.ts`): no database read. */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);

const BUILT_IN_NAMES: Record<BuiltInRoleKey, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  'project-admin': 'Admin',
  'project-contributor': 'Contributor',
  'project-reader': 'Reader',
};

/** role id → name of an organization's built-in roles (ids are hashes: computed once per organization) */
const builtIns = new Map<string, Map<string, string>>();

/** Name of a built-in role of the organization, or undefined for a custom role. */
export function builtInRoleName(organizationId: string, roleId: string): string | undefined {
  let names = builtIns.get(organizationId);
  if (!names) {
    if (builtIns.size >= 10_000) builtIns.clear();
    builtIns.set(organizationId, (names = new Map(BUILT_IN_ROLE_KEYS.map((k) => [builtInRoleId(organizationId, k), BUILT_IN_NAMES[k]]))));
  }
  return names.get(roleId);
}

export const memberRoleOf = (organizationId: string) => builtInRoleId(organizationId, 'member');

/**
 * A role of the organization by id: built-in names, custom ones from authorization's role events. A role that
 * does not exist (a binding that raced the deletion of its custom role) is shown as what it counts as
 * everywhere: Member (docs/architecture.md, "Concurrency").
 */
function roleOf(m: PeopleModel, organizationId: string, roleId: string): { id: string; name: string } {
  const name = builtInRoleName(organizationId, roleId) ?? m.roleNames.get(roleId);
  return name !== undefined ? { id: roleId, name } : { id: memberRoleOf(organizationId), name: 'Member' };
}

export function organizationOf(m: PeopleModel, organizationId: string): Organization {
  const org = m.orgs.get(organizationId);
  if (!org) throw notFound('organization');
  return org;
}

export const organizationView = (o: Organization): OrganizationView => ({ id: o.id, name: o.name, slug: o.slug });

/** The organization; NOT_FOUND unless `userId` (when given) is a member. */
export function getOrganization(m: PeopleModel, organizationId: string, userId?: string): OrganizationView {
  const org = organizationOf(m, organizationId);
  const member = userId === undefined ? undefined : org.people.get(userId);
  if (userId !== undefined && (!member || member.type === 'group')) throw notFound('organization');
  return organizationView(org);
}

const byName = (a: OrganizationView, b: OrganizationView) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The organizations `userId` belongs to, by name (then id): a page of `limit` (default 50), with `nextCursor` (the
 * last one's id, opaque) when more follow, the next page starting after that organization as it is named now;
 * or, with `all`, every one of them.
 */
export function myOrganizations(m: PeopleModel, userId: string, page: { limit?: number; cursor?: string; all?: boolean } = {}): Page<OrganizationView> {
  const { cursor, all } = page;
  const limit = all ? undefined : limitOf(page.limit);
  const orgs = [...(m.users.get(userId)?.orgIds ?? [])].map((id) => m.orgs.get(id)).filter((o): o is Organization => !!o);
  let items = orgs.map(organizationView).sort(byName);
  if (cursor) {
    const after = m.orgs.get(Buffer.from(cursor, 'base64url').toString());
    if (!after) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'cursor is not valid');
    items = items.filter((o) => byName(o, organizationView(after)) > 0);
  }
  if (limit === undefined || items.length <= limit) return { items, nextCursor: null };
  return { items: items.slice(0, limit), nextCursor: Buffer.from(items[limit - 1].id).toString('base64url') };
}

const encodeCursor = (seq: number) => Buffer.from(String(seq).padStart(16, '0')).toString('base64url');
/** the position after which a page starts (0: the first page) */
function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const key = Buffer.from(cursor, 'base64url').toString();
  if (!/^[0-9]{16}$/.test(key)) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'cursor is not valid');
  return Number(key);
}
/** The page size (the message contract keeps it within 1..MAX_LIMIT). */
export const limitOf = (limit: number | undefined): number => limit ?? DEFAULT_LIMIT;

/**
 * Searching: collect the people of the prefix from the index and sort them by position, or walk the list in
 * join order testing each person until a page is full? The index costs about its `matches` entries with the
 * prefix, each a set insertion and a share of the sort (~4 times a walk's test of one person, measured with
 * bench/people: with the walk's estimate at ×5 a search matching 1 in 20 of 100,000 people took the index and
 * was 3× slower than in a small organization); the walk about `wanted × people / matches` people. So a rare
 * prefix takes the index and a common one finds its page within a few hundred people: neither grows with the
 * organization.
 */
const walkIsCheaper = (matches: number, wanted: number, people: number): boolean => 4 * matches * matches > wanted * people;

function personView(m: PeopleModel, org: Organization, p: Person): PersonView {
  const roles: PersonView['roles'] = [{ ...roleOf(m, org.id, p.roleId), source: 'direct' }];
  const groups = p.groupIds.map((g) => org.groups.get(g)).filter((g): g is Group => !!g);
  for (const g of groups) {
    const r = roleOf(m, org.id, g.roleId);
    const held = roles.find((x) => x.id === r.id && x.source === 'group');
    if (held) held.groups!.push({ id: g.id, name: g.name });
    else roles.push({ ...r, source: 'group', groups: [{ id: g.id, name: g.name }] });
  }
  if (p.type === 'group') return { type: 'group', id: p.id, name: org.groups.get(p.id)?.name ?? '', roles, groups: [] };
  const profile = m.users.get(p.id);
  const username = profile?.username;
  return {
    type: p.type,
    id: p.id,
    name: profile?.name ?? username ?? '',
    ...(username ? { username } : {}),
    ...(profile?.email ? { email: profile.email } : {}),
    roles,
    groups: groups.map((g) => ({ id: g.id, name: g.name })),
  };
}

/** The search as a list reads it: a prefix, case-insensitive ('' for none). */
const searchOf = (req: ListPeopleRequest): string => req.search?.trim().toLowerCase() ?? '';

/** One page of an organization's people and groups, in the order they joined, from memory. */
export function listPeople(m: PeopleModel, req: ListPeopleRequest): Page<PersonView> {
  const org = organizationOf(m, req.organizationId);
  const limit = limitOf(req.limit);
  const after = decodeCursor(req.cursor);
  const search = searchOf(req);
  const roleId = req.roleId;
  const viaGroups = roleId === undefined ? undefined : new Set([...org.groups.values()].filter((g) => g.roleId === roleId).map((g) => g.id));
  const fits = (p: Person) =>
    (req.type === undefined || p.type === req.type) &&
    (roleId === undefined || p.roleId === roleId || p.groupIds.some((g) => viaGroups!.has(g))) &&
    (search === '' || hasPrefix(p, search));

  let found: Person[];
  if (search !== '' && !walkIsCheaper(countPrefix(org.search, search), limit + 1, org.order.length)) {
    found = [...peopleWithPrefix(org.search, search)]
      .filter((p) => p.seq > after && fits(p))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit + 1);
  } else {
    found = [];
    for (let i = seqIndex(org.order, after + 1); i < org.order.length && found.length <= limit; i++) if (fits(org.order[i])) found.push(org.order[i]);
  }
  const page = found.slice(0, limit);
  return { items: page.map((p) => personView(m, org, p)), nextCursor: found.length > limit ? encodeCursor(page[page.length - 1].seq) : null };
}

/** The serialized pages kept per model (`listPeopleJson`), at most this many characters in all. */
const PAGE_CACHE_CHARS = 8 * 1024 * 1024;
const pageCaches = new WeakMap<PeopleModel, { changes: number; chars: number; pages: Map<string, JsonText> }>();

/**
 * `listPeople` serialized, and kept: the same request answers the same text until the model changes (any event
 * it uses, `PeopleModel.changes`), so a page read again (the console's first page, a list polled) costs neither
 * the page nor its serialization. The oldest pages go first past PAGE_CACHE_CHARS.
 */
export function listPeopleJson(m: PeopleModel, req: ListPeopleRequest): JsonText {
  let cache = pageCaches.get(m);
  if (cache?.changes !== m.changes) pageCaches.set(m, (cache = { changes: m.changes, chars: 0, pages: new Map() }));
  // "Maria " and "maria" are one page
  const key = JSON.stringify([req.organizationId, req.limit, req.cursor, searchOf(req), req.type, req.roleId]);
  const kept = cache.pages.get(key);
  if (kept) return kept;
  const page = new JsonText(JSON.stringify(listPeople(m, req)));
  cache.pages.set(key, page);
  cache.chars += page.json.length;
  for (const [k, p] of cache.pages) {
    if (cache.chars <= PAGE_CACHE_CHARS) break;
    cache.pages.delete(k);
    cache.chars -= p.json.length;
  }
  return page;
}

function paginate<T extends { seq: number }, V>(entries: Iterable<T>, cursor: string | undefined, limit: number, view: (v: T) => V): Page<V> {
  const after = decodeCursor(cursor);
  const sorted = [...entries].filter((v) => v.seq > after).sort((a, b) => a.seq - b.seq);
  const page = sorted.slice(0, limit);
  return { items: page.map(view), nextCursor: sorted.length > limit ? encodeCursor(page[page.length - 1].seq) : null };
}

function groupView(m: PeopleModel, org: Organization, g: Group): GroupView {
  return { id: g.id, name: g.name, description: g.description, memberIds: [...g.memberIds], role: roleOf(m, org.id, g.roleId) };
}

export function listGroups(m: PeopleModel, req: ListGroupsRequest): Page<GroupView> {
  const org = organizationOf(m, req.organizationId);
  return paginate(org.groups.values(), req.cursor, limitOf(req.limit), (g) => groupView(m, org, g));
}

export function getGroup(m: PeopleModel, req: GetGroupRequest): GroupView {
  const org = organizationOf(m, req.organizationId);
  const g = org.groups.get(req.groupId);
  if (!g) throw notFound('group');
  return groupView(m, org, g);
}

export function listProjects(m: PeopleModel, req: ListProjectsRequest): Page<ProjectView> {
  const org = organizationOf(m, req.organizationId);
  return paginate(org.projects.values(), req.cursor, limitOf(req.limit), (p) => ({ id: p.id, name: p.name, ownerId: p.ownerId }));
}

export function getProject(m: PeopleModel, req: GetProjectRequest): ProjectView {
  const p = organizationOf(m, req.organizationId).projects.get(req.projectId);
  if (!p) throw notFound('project');
  return { id: p.id, name: p.name, ownerId: p.ownerId };
}
