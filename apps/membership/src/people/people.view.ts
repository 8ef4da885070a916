import type { CatalogueEvent } from '@app/contracts';
import { buildIndex, emptyIndex, indexPerson, noteDead, searchTerms, type TermIndex } from './people.search';

/**
 * Membership's read model, in memory: what lists of people, groups, projects and "my organizations" show,
 * folded from the events stream (membership's events, identity's profiles, authorization's role names). Every
 * replica holds all of it (docs/membership.md, "People list"). `applyPeopleEvent` is the one fold; the
 * queries (`people.queries.ts`) only read.
 */

export type PersonType = 'user' | 'group' | 'service_account';

/** A user, service account or group of one organization. Its position in the list is `seq`: the stream sequence of the event that added it. */
export interface Person {
  seq: number;
  /** a service account is a user of the organization's own (it joined `via: 'service-account'`) */
  type: PersonType;
  id: string;
  /** the role bound directly in the organization */
  roleId: string;
  /** groups a user is in (in the order joined; empty for a group) */
  groupIds: string[];
  /** search terms (people.search.ts): a user's from their profile, a group's from its name */
  terms: string[];
  /** set when it left the organization (the search index skips it) */
  gone?: boolean;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  roleId: string;
  seq: number;
  /** in the order they joined */
  memberIds: Set<string>;
}

export interface Project {
  id: string;
  name: string;
  ownerId: string;
  seq: number;
}

export interface Organization {
  id: string;
  name: string;
  slug: string;
  /** by user or group id */
  people: Map<string, Person>;
  /** the same people by `seq` (join order: the list's order) */
  order: Person[];
  groups: Map<string, Group>;
  projects: Map<string, Project>;
  search: TermIndex<Person>;
}

/** identity's profile of a user, and the organizations they are in */
export interface Profile {
  username?: string;
  name?: string;
  email?: string;
  /** an array, not a Set: most users are in one organization (a Set costs ~150 bytes) */
  orgIds: string[];
}

export interface PeopleModel {
  orgs: Map<string, Organization>;
  users: Map<string, Profile>;
  /** custom role names (authorization's role events), by role id */
  roleNames: Map<string, string>;
  /** the last stream sequence folded in */
  sequence: number;
  /** how many events changed the model in this process (not in snapshots): what was read before is still true while it stays */
  changes: number;
}

export const emptyModel = (): PeopleModel => ({ orgs: new Map(), users: new Map(), roleNames: new Map(), sequence: 0, changes: 0 });

/** One copy of each role id (100,000 members bound to Member share one string). */
const interned = new Map<string, string>();
function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size > 100_000) interned.clear();
  interned.set(s, s);
  return s;
}

const profileOf = (m: PeopleModel, userId: string): Profile => {
  let p = m.users.get(userId);
  if (!p) m.users.set(userId, (p = { orgIds: [] }));
  return p;
};

/** a user's terms: their username, name (else username), the name's words, their email */
export const userTerms = (p: Profile): string[] => searchTerms({ username: p.username, name: p.name ?? p.username, email: p.email });

function addPerson(org: Organization, person: Person): void {
  if (org.people.has(person.id)) return;
  org.people.set(person.id, person);
  org.order.push(person); // events come in stream order: seq only grows
  indexPerson(org.search, person);
}

function removePerson(org: Organization, id: string): Person | undefined {
  const person = org.people.get(id);
  if (!person) return undefined;
  org.people.delete(id);
  person.gone = true;
  const at = seqIndex(org.order, person.seq);
  if (org.order[at] === person) org.order.splice(at, 1);
  noteDead(org.search, person.terms.length);
  return person;
}

/** first index of `order` whose seq is ≥ `seq` */
export function seqIndex(order: Person[], seq: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function retitle(org: Organization, person: Person, terms: string[]): void {
  if (person.terms.join('\n') === terms.join('\n')) return;
  noteDead(org.search, person.terms.length);
  person.terms = terms;
  indexPerson(org.search, person);
}

function setOrganizationRole(org: Organization | undefined, subjectType: 'user' | 'group', subjectId: string, roleId: string): void {
  const person = org?.people.get(subjectId);
  if (person) person.roleId = intern(roleId);
  const group = subjectType === 'group' ? org?.groups.get(subjectId) : undefined;
  if (group) group.roleId = intern(roleId);
}

/**
 * Folds one event of the stream (at `seq`) into the model; events it does not use change nothing but the
 * sequence. Narrowed by `type` (the catalogue's union), never by casting `data`.
 */
export function applyPeopleEvent(m: PeopleModel, event: CatalogueEvent | undefined, seq: number): void {
  if (seq > m.sequence) m.sequence = seq;
  if (event && fold(m, event, seq)) m.changes++;
}

/** Whether the model uses the event (it may still find nothing to change). */
function fold(m: PeopleModel, event: CatalogueEvent, seq: number): boolean {
  switch (event.type) {
    case 'organization.created': {
      const d = event.data;
      if (!m.orgs.has(d.organizationId))
        m.orgs.set(d.organizationId, {
          id: d.organizationId,
          name: d.name,
          slug: d.slug,
          people: new Map(),
          order: [],
          groups: new Map(),
          projects: new Map(),
          search: emptyIndex(),
        });
      return true;
    }
    case 'organization.member-added': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      if (!org) return true;
      const profile = profileOf(m, d.userId);
      profile.username ??= d.username;
      if (!profile.orgIds.includes(org.id)) profile.orgIds.push(org.id);
      addPerson(org, {
        seq,
        type: d.via === 'service-account' ? 'service_account' : 'user',
        id: d.userId,
        roleId: intern(d.roleId),
        groupIds: [],
        terms: userTerms(profile),
      });
      return true;
    }
    case 'organization.member-removed': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      if (!org) return true;
      removePerson(org, d.userId);
      const profile = m.users.get(d.userId);
      if (profile) profile.orgIds = profile.orgIds.filter((o) => o !== org.id);
      for (const group of org.groups.values()) group.memberIds.delete(d.userId);
      return true;
    }
    case 'group.created': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      if (!org || org.groups.has(d.groupId)) return true;
      const group: Group = { id: d.groupId, name: d.name, description: d.description, roleId: intern(d.roleId), seq, memberIds: new Set(d.memberIds) };
      org.groups.set(group.id, group);
      addPerson(org, { seq, type: 'group', id: group.id, roleId: group.roleId, groupIds: [], terms: searchTerms({ name: d.name }) });
      for (const userId of d.memberIds) joinGroup(org, group, userId);
      return true;
    }
    case 'group.details-changed': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      const group = org?.groups.get(d.groupId);
      if (!org || !group) return true;
      group.name = d.name;
      group.description = d.description;
      const person = org.people.get(d.groupId);
      if (person) retitle(org, person, searchTerms({ name: d.name }));
      return true;
    }
    case 'group.member-added': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      const group = org?.groups.get(d.groupId);
      if (org && group) joinGroup(org, group, d.userId);
      return true;
    }
    case 'group.member-removed': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      org?.groups.get(d.groupId)?.memberIds.delete(d.userId);
      const person = org?.people.get(d.userId);
      if (person) person.groupIds = person.groupIds.filter((g) => g !== d.groupId);
      return true;
    }
    case 'group.deleted': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      const group = org?.groups.get(d.groupId);
      if (!org || !group) return true;
      for (const userId of group.memberIds) {
        const person = org.people.get(userId);
        if (person) person.groupIds = person.groupIds.filter((g) => g !== d.groupId);
      }
      org.groups.delete(d.groupId);
      removePerson(org, d.groupId);
      return true;
    }
    case 'project.created': {
      const d = event.data;
      m.orgs.get(d.organizationId)?.projects.set(d.projectId, { id: d.projectId, name: d.name, ownerId: d.ownerId, seq });
      return true;
    }
    case 'project.owner-changed': {
      const d = event.data;
      const project = m.orgs.get(d.organizationId)?.projects.get(d.projectId);
      if (project) project.ownerId = d.ownerId;
      return true;
    }
    case 'project.deleted': {
      const d = event.data;
      m.orgs.get(d.organizationId)?.projects.delete(d.projectId);
      return true;
    }

    // identity: profiles
    case 'user.created': {
      const d = event.data;
      changeProfile(m, d.userId, { username: d.username, name: d.name, email: d.email });
      return true;
    }
    case 'user.username-changed':
      changeProfile(m, event.data.userId, { username: event.data.username });
      return true;
    case 'user.screen-name-changed':
      changeProfile(m, event.data.userId, { name: event.data.name });
      return true;
    case 'user.email-changed':
      changeProfile(m, event.data.userId, { email: event.data.email });
      return true;
    case 'service-account.details-changed': // a service account's name is its handle (it joined under it)
      changeProfile(m, event.data.serviceAccountId, { username: event.data.name });
      return true;

    // role names (authorization) and direct organization roles (membership's bindings; authorization's legacy ones alike)
    case 'role.created':
    case 'role.changed':
      m.roleNames.set(event.data.roleId, event.data.name);
      return true;
    case 'role.deleted':
      m.roleNames.delete(event.data.roleId);
      return true;
    case 'role.assigned': {
      const d = event.data;
      if (d.projectId === null) setOrganizationRole(m.orgs.get(d.organizationId), d.subjectType, d.subjectId, d.roleId);
      return true;
    }
    case 'organization.bindings-imported': {
      const d = event.data;
      const org = m.orgs.get(d.organizationId);
      for (const s of d.subjects) if (s.roleId !== null) setOrganizationRole(org, s.subjectType, s.subjectId, s.roleId);
      return true;
    }
    default:
      return false;
  }
}

function joinGroup(org: Organization, group: Group, userId: string): void {
  group.memberIds.add(userId);
  const person = org.people.get(userId);
  if (person && !person.groupIds.includes(group.id)) person.groupIds.push(group.id);
}

/** identity changed a profile: the user's search terms follow in every organization they are in */
function changeProfile(m: PeopleModel, userId: string, change: { username?: string; name?: string; email?: string }): void {
  const profile = profileOf(m, userId);
  if (change.username !== undefined) profile.username = change.username;
  if (change.name !== undefined) profile.name = change.name;
  if (change.email !== undefined) profile.email = change.email;
  const terms = userTerms(profile);
  for (const orgId of profile.orgIds) {
    const org = m.orgs.get(orgId);
    const person = org?.people.get(userId);
    if (org && person) retitle(org, person, terms);
  }
}

/**
 * The model as plain JSON (stored as a string: FerretDB v1 refuses nested arrays in a document). People as
 * tuples in join order; search terms, the index and each user's organizations are derived again on restore.
 */
export interface PeopleSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  sequence: number;
  /** [userId, username, name, email] (null: unknown) */
  users: Array<[string, string | null, string | null, string | null]>;
  roleNames: Array<[string, string]>;
  orgs: OrganizationSnapshot[];
}

export interface OrganizationSnapshot {
  id: string;
  name: string;
  slug: string;
  /** [seq, type, id, roleId, groupIds] in join order */
  people: Array<[number, PersonType, string, string, string[]]>;
  /** [id, name, description, roleId, seq, memberIds] */
  groups: Array<[string, string, string, string, number, string[]]>;
  /** [id, name, ownerId, seq] */
  projects: Array<[string, string, string, number]>;
}

export const SNAPSHOT_FORMAT = 1;

export function snapshotOf(m: PeopleModel): PeopleSnapshot {
  return {
    format: SNAPSHOT_FORMAT,
    sequence: m.sequence,
    users: [...m.users].map(([id, p]) => [id, p.username ?? null, p.name ?? null, p.email ?? null]),
    roleNames: [...m.roleNames],
    orgs: [...m.orgs.values()].map((o) => ({
      id: o.id,
      name: o.name,
      slug: o.slug,
      people: o.order.map((p) => [p.seq, p.type, p.id, p.roleId, [...p.groupIds]]),
      groups: [...o.groups.values()].map((g) => [g.id, g.name, g.description, g.roleId, g.seq, [...g.memberIds]]),
      projects: [...o.projects.values()].map((p) => [p.id, p.name, p.ownerId, p.seq]),
    })),
  };
}

export function modelFromSnapshot(s: PeopleSnapshot): PeopleModel {
  if (s.format !== SNAPSHOT_FORMAT) throw new Error(`unknown people snapshot format ${String(s.format)}`);
  const m = emptyModel();
  m.sequence = s.sequence;
  for (const [id, username, name, email] of s.users) {
    const profile: Profile = { orgIds: [] };
    if (username !== null) profile.username = username;
    if (name !== null) profile.name = name;
    if (email !== null) profile.email = email;
    m.users.set(id, profile);
  }
  for (const [id, name] of s.roleNames) m.roleNames.set(id, name);
  for (const o of s.orgs) {
    const groups = new Map(
      o.groups.map(([id, name, description, roleId, seq, memberIds]): [string, Group] => [
        id,
        { id, name, description, roleId: intern(roleId), seq, memberIds: new Set(memberIds) },
      ]),
    );
    const order = o.people.map(([seq, type, id, roleId, groupIds]): Person => {
      const profile = type !== 'group' ? profileOf(m, id) : undefined;
      profile?.orgIds.push(o.id);
      const terms = profile ? userTerms(profile) : searchTerms({ name: groups.get(id)?.name });
      return { seq, type, id, roleId: intern(roleId), groupIds: groupIds.map((g) => groups.get(g)?.id ?? g), terms };
    });
    m.orgs.set(o.id, {
      id: o.id,
      name: o.name,
      slug: o.slug,
      people: new Map(order.map((p) => [p.id, p])),
      order,
      groups,
      projects: new Map(o.projects.map(([id, name, ownerId, seq]) => [id, { id, name, ownerId, seq }])),
      search: buildIndex(order),
    });
  }
  return m;
}
