import type { AnyBulkWriteOperation, Collection, Db, Filter, OptionalUnlessRequiredId, WithoutId } from 'mongodb';
import { allEventsSubject, type DomainEvent } from '@app/contracts';
import { duplicateKeyIndexes, runLeasedProjection, type LeasedProjection, type StreamEvent } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import {
  groupMembers,
  groupPersonDocument,
  orgMeta,
  orgVersions,
  peopleOf,
  personKeyId,
  personKeys,
  positionKey,
  roleNames,
  searchTerms,
  userPersonDocument,
  usersView,
  type GroupMembersDocument,
  type OrganizationMetaDocument,
  type PersonDocument,
  type PersonKeyDocument,
  type RoleNameDocument,
  type UserDocument,
} from './people.model';
import { prefixesOf, searchNodeId, searchNodes, withoutPerson, withPerson, type SearchNode } from './people.search';

export const PEOPLE_PROJECTION = 'membership-people';
/** Events applied together at most (one write per document they touch). */
export const PEOPLE_BATCH = 500;
/** Statements per write command: FerretDB v1.24 can deadlock on an update command of more than 100. */
const WRITE_CHUNK = 50;
/** New documents per insert command. */
const INSERT_CHUNK = 500;
/** More look-ups than this in one collection are read with one `$in` query (FerretDB: one scan instead of many). */
const LOOKUP_ONE_BY_ONE_MAX = 20;

/**
 * The documents of one collection a batch reads and writes: each is read at most once (`load` reads many at
 * once), changed in memory by the batch's events in stream order, and written once at the end (`writes`): a
 * replace (upsert) or a delete by `_id`, the one filter FerretDB v1 hands to SQLite.
 */
class Documents<T extends { _id: string }> {
  private readonly docs = new Map<string, T | null>();
  /** ids found in the database when read */
  private readonly stored = new Set<string>();
  private readonly dirty = new Set<string>();

  constructor(readonly collection: Collection<T>) {}

  private found(_id: string, doc: T | null): void {
    if (this.docs.has(_id)) return;
    this.docs.set(_id, doc);
    if (doc) this.stored.add(_id);
  }

  async load(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.docs.has(id));
    if (missing.length <= LOOKUP_ONE_BY_ONE_MAX) {
      await Promise.all(missing.map((id) => this.get(id)));
      return;
    }
    for (let i = 0; i < missing.length; i += 1000) {
      const chunk = missing.slice(i, i + 1000);
      const found = new Map((await this.collection.find({ _id: { $in: chunk } } as Filter<T>).toArray()).map((d) => [d._id as string, d as T]));
      for (const id of chunk) this.found(id, found.get(id) ?? null);
    }
  }

  async get(_id: string): Promise<T | null> {
    if (!this.docs.has(_id)) this.found(_id, (await this.collection.findOne({ _id } as Filter<T>)) as T | null);
    return this.docs.get(_id)!;
  }

  put(doc: T): void {
    this.docs.set(doc._id, doc);
    this.dirty.add(doc._id);
  }

  delete(_id: string): void {
    if (!this.docs.has(_id)) this.stored.add(_id); // not read: it may be stored
    this.docs.set(_id, null);
    this.dirty.add(_id);
  }

  /**
   * New documents in `insertMany`s (FerretDB: one command for many rows, where an upsert first looks for the
   * row), the others replaced or deleted by `_id`. One that another writer inserted meanwhile (a leader whose
   * lease ran out mid-batch) is replaced instead.
   */
  async write(): Promise<void> {
    const inserts: T[] = [];
    const ops: Array<AnyBulkWriteOperation<T>> = [];
    const replace = (doc: T): AnyBulkWriteOperation<T> => ({
      replaceOne: { filter: { _id: doc._id } as Filter<T>, replacement: withoutUndefined(doc) as WithoutId<T>, upsert: true },
    });
    for (const _id of this.dirty) {
      const doc = this.docs.get(_id);
      if (doc && !this.stored.has(_id)) inserts.push(withoutUndefined(doc));
      else if (doc) ops.push(replace(doc));
      else if (this.stored.has(_id)) ops.push({ deleteOne: { filter: { _id } as Filter<T> } });
    }
    for (let i = 0; i < inserts.length; i += INSERT_CHUNK) {
      const chunk = inserts.slice(i, i + INSERT_CHUNK);
      await this.collection.insertMany(chunk as OptionalUnlessRequiredId<T>[], { ordered: false }).catch((err) => {
        const taken = duplicateKeyIndexes(err);
        if (!taken) throw err;
        ops.push(...taken.map((k) => replace(chunk[k])));
      });
    }
    for (let i = 0; i < ops.length; i += WRITE_CHUNK) await this.collection.bulkWrite(ops.slice(i, i + WRITE_CHUNK), { ordered: false });
    for (const _id of this.dirty)
      if (this.docs.get(_id)) this.stored.add(_id);
      else this.stored.delete(_id);
    this.dirty.clear();
  }
}

const withoutUndefined = <T extends object>(doc: T): T => Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)) as T;

/** Everything one batch touches; written collection by collection in `write`. */
class PeopleBatch {
  readonly keys: Documents<PersonKeyDocument>;
  readonly users: Documents<UserDocument>;
  readonly meta: Documents<OrganizationMetaDocument>;
  /** per organization, how much its `organization_versions_view` counters go up (`$inc`: no read needed) */
  readonly versions = new Map<string, { v: number; n: number }>();
  readonly members: Documents<GroupMembersDocument>;
  readonly roles: Documents<RoleNameDocument>;
  private readonly peopleByOrg = new Map<string, Documents<PersonDocument>>();
  private readonly searchByOrg = new Map<string, Documents<SearchNode>>();

  constructor(private readonly db: Db) {
    this.keys = new Documents(personKeys(db));
    this.users = new Documents(usersView(db));
    this.meta = new Documents(orgMeta(db));
    this.members = new Documents(groupMembers(db));
    this.roles = new Documents(roleNames(db));
  }

  people(organizationId: string): Documents<PersonDocument> {
    let docs = this.peopleByOrg.get(organizationId);
    if (!docs) this.peopleByOrg.set(organizationId, (docs = new Documents(peopleOf(this.db, organizationId))));
    return docs;
  }

  search(organizationId: string): Documents<SearchNode> {
    let docs = this.searchByOrg.get(organizationId);
    if (!docs) this.searchByOrg.set(organizationId, (docs = new Documents(searchNodes(this.db, organizationId))));
    return docs;
  }

  /**
   * Documents, search nodes, then the keys (a batch applied again after a crash in between finds no key and
   * completes what is missing, as one event did before), then the views.
   */
  async write(): Promise<void> {
    for (const docs of this.peopleByOrg.values()) await docs.write();
    for (const docs of this.searchByOrg.values()) await docs.write();
    await this.keys.write();
    await this.members.write();
    await this.meta.write();
    await this.users.write();
    await this.roles.write();
    const inc = [...this.versions].map(([_id, by]) => ({ updateOne: { filter: { _id }, update: { $inc: by }, upsert: true } }));
    for (let i = 0; i < inc.length; i += WRITE_CHUNK) await orgVersions(this.db).bulkWrite(inc.slice(i, i + WRITE_CHUNK), { ordered: false });
    this.versions.clear();
  }
}

async function personOf(b: PeopleBatch, organizationId: string, subjectId: string): Promise<PersonDocument | null> {
  const key = (await b.keys.get(personKeyId(organizationId, subjectId)))?.key;
  return key ? b.people(organizationId).get(key) : null;
}

async function updatePerson(b: PeopleBatch, organizationId: string, subjectId: string, change: (doc: PersonDocument) => void): Promise<void> {
  const doc = await personOf(b, organizationId, subjectId);
  if (!doc) return;
  change(doc);
  b.people(organizationId).put(doc);
}

async function indexPerson(b: PeopleBatch, organizationId: string, key: string, terms: string[]): Promise<void> {
  const nodes = b.search(organizationId);
  const prefixes = prefixesOf(terms);
  await nodes.load([...prefixes.keys()].map((p) => searchNodeId(organizationId, p)));
  for (const [prefix, ts] of prefixes) {
    const _id = searchNodeId(organizationId, prefix);
    const next = withPerson(await nodes.get(_id), _id, key, ts);
    if (next) nodes.put(next);
  }
}

async function unindexPerson(b: PeopleBatch, organizationId: string, key: string, terms: string[]): Promise<void> {
  const nodes = b.search(organizationId);
  const ids = [...prefixesOf(terms).keys()].map((p) => searchNodeId(organizationId, p));
  await nodes.load(ids);
  for (const _id of ids) {
    const node = await nodes.get(_id);
    if (node) nodes.put(withoutPerson(node, key));
  }
}

/** document, search index, then the key: a re-applied event finds no key and completes what is missing */
async function insertPerson(b: PeopleBatch, organizationId: string, doc: PersonDocument): Promise<void> {
  const keyId = personKeyId(organizationId, doc.id);
  if (await b.keys.get(keyId)) return; // applied before
  const people = b.people(organizationId);
  if (!(await people.get(doc._id))) people.put(doc); // a document left by a crash before its key is kept
  await indexPerson(b, organizationId, doc._id, doc.search);
  b.keys.put({ _id: keyId, key: doc._id });
}

async function removePerson(b: PeopleBatch, organizationId: string, subjectId: string): Promise<void> {
  const keyId = personKeyId(organizationId, subjectId);
  const key = (await b.keys.get(keyId))?.key;
  if (key) {
    const doc = await b.people(organizationId).get(key);
    if (doc) await unindexPerson(b, organizationId, key, doc.search);
    b.people(organizationId).delete(key);
  }
  b.keys.delete(keyId);
}

/** a change of name, username or email: the search index follows the new terms */
async function renamePerson(b: PeopleBatch, organizationId: string, subjectId: string, change: Partial<PersonDocument> & { search: string[] }): Promise<void> {
  const doc = await personOf(b, organizationId, subjectId);
  if (!doc) return;
  if (doc.search.join('\n') !== change.search.join('\n')) {
    await unindexPerson(b, organizationId, doc._id, doc.search);
    await indexPerson(b, organizationId, doc._id, change.search);
  }
  Object.assign(doc, change);
  b.people(organizationId).put(doc);
}

/** identity changed a profile: copy it into every organization the user belongs to */
async function refreshProfile(b: PeopleBatch, userId: string, change: { username?: string; name?: string; email?: string }): Promise<void> {
  const user = (await b.users.get(userId)) ?? { _id: userId, orgIds: [] };
  Object.assign(user, withoutUndefined(change));
  b.users.put(user);
  for (const organizationId of user.orgIds ?? []) {
    await renamePerson(b, organizationId, userId, {
      ...(user.username ? { username: user.username } : {}),
      ...(user.name ? { name: user.name } : {}),
      ...(user.email ? { email: user.email } : {}),
      search: searchTerms(user),
    });
  }
}

/** events that change `organizations_view`: they bump the organization's version (queries cache by it) */
const META_EVENTS = new Set([
  'organization.created',
  'group.created',
  'group.details-changed',
  'group.deleted',
  'project.created',
  'project.owner-changed',
  'project.deleted',
  'role.assigned',
  'organization.bindings-imported',
]);

/** A user's organization role is not in `organizations_view` (a group's is): no new version for it. */
const changesMeta = (event: DomainEvent): boolean =>
  META_EVENTS.has(event.type) && !(event.type === 'role.assigned' && (event.data as { subjectType?: string }).subjectType === 'user');

const SIZE_CHANGES: Record<string, number> = {
  'organization.member-added': 1,
  'group.created': 1,
  'organization.member-removed': -1,
  'group.deleted': -1,
};

/** The organization's view document, changed in place and kept for the write (nothing when it does not exist). */
async function changeMeta(b: PeopleBatch, organizationId: string, change: (doc: OrganizationMetaDocument) => void): Promise<void> {
  const doc = await b.meta.get(organizationId);
  if (!doc) return;
  doc.groups ??= {};
  doc.projects ??= {};
  change(doc);
  b.meta.put(doc);
}

/** The subject's organization role: its document, and for a group the organization view's copy. */
async function setOrganizationRole(b: PeopleBatch, organizationId: string, subjectType: string, subjectId: string, roleId: string): Promise<void> {
  await updatePerson(b, organizationId, subjectId, (doc) => (doc.roleId = roleId));
  if (subjectType === 'group')
    await changeMeta(b, organizationId, (doc) => {
      const group = doc.groups[subjectId];
      if (group) group.roleId = roleId;
    });
}

const organizationOf = (event: DomainEvent): string | undefined =>
  ((event.data as { organizationId?: string }).organizationId ?? event.organizationId) as string | undefined;

/** Reads what the batch's events will look up, a collection at a time (many ids: one `$in` query each). */
async function prefetch(b: PeopleBatch, events: Array<{ event: DomainEvent }>): Promise<void> {
  const keyIds = new Map<string, Set<string>>();
  const userIds = new Set<string>();
  const subject = (orgId: string, id: unknown) => typeof id === 'string' && (keyIds.get(orgId) ?? keyIds.set(orgId, new Set()).get(orgId)!).add(id);
  for (const { event } of events) {
    const d = event.data as Record<string, unknown>;
    const orgId = organizationOf(event);
    if (typeof d.userId === 'string') userIds.add(d.userId);
    if (!orgId) continue;
    for (const id of [d.userId, d.groupId, d.subjectId, ...((d.memberIds as unknown[]) ?? [])]) subject(orgId, id);
  }
  await Promise.all([b.keys.load([...keyIds].flatMap(([orgId, ids]) => [...ids].map((id) => personKeyId(orgId, id)))), b.users.load(userIds)]);
  for (const [orgId, ids] of keyIds) {
    const keys: string[] = [];
    for (const id of ids) {
      const key = (await b.keys.get(personKeyId(orgId, id)))?.key;
      if (key) keys.push(key);
    }
    await b.people(orgId).load(keys);
  }
  // the search nodes of the people the batch adds, with the profiles as the batch leaves them (a node missed
  // here, e.g. of a rename, is read when it is needed)
  const profiles = new Map<string, { username?: string; name?: string; email?: string }>();
  const nodes = new Map<string, Set<string>>();
  for (const { event } of events) {
    const d = event.data as Record<string, string | undefined>;
    const orgId = organizationOf(event);
    if (event.type.startsWith('user.') && d.userId) {
      const known = profiles.get(d.userId) ?? { ...((await b.users.get(d.userId)) ?? {}) };
      profiles.set(d.userId, { ...known, ...withoutUndefined({ username: d.username, name: d.name, email: d.email }) });
    } else if (orgId && (event.type === 'organization.member-added' || event.type === 'group.created')) {
      const profile = d.userId ? (profiles.get(d.userId) ?? (await b.users.get(d.userId)) ?? {}) : {};
      const name = d.userId ? (profile.name ?? profile.username ?? d.username) : d.name;
      const terms = searchTerms({ username: d.userId ? (profile.username ?? d.username) : undefined, name, email: profile.email });
      const ofOrg = nodes.get(orgId) ?? nodes.set(orgId, new Set()).get(orgId)!;
      for (const prefix of prefixesOf(terms).keys()) ofOrg.add(searchNodeId(orgId, prefix));
    }
  }
  for (const [orgId, ids] of nodes) await b.search(orgId).load(ids);
}

/**
 * Applies consecutive events of any service to the read model, in stream order, in memory, then writes every
 * document they changed once (`PeopleBatch.write`). Idempotent: inserts are skipped when the subject is already
 * there (its key), the rest set the event's values, so a batch applied again (after a crash before its
 * checkpoint) ends in the same state (apart from the counters, as before: docs/membership.md).
 */
export async function applyPeopleBatch(db: Db, events: Array<{ event: DomainEvent; sequence: number }>): Promise<void> {
  const b = new PeopleBatch(db);
  await prefetch(b, events);
  for (const { event, sequence } of events) {
    await applyEvent(b, event, sequence);
    const orgId = organizationOf(event);
    const size = SIZE_CHANGES[event.type] ?? 0;
    if (orgId && (changesMeta(event) || size)) {
      const by = b.versions.get(orgId) ?? { v: 0, n: 0 };
      b.versions.set(orgId, { v: by.v + 1, n: by.n + size });
    }
  }
  await b.write();
}

/** One event (`applyPeopleBatch` of one). */
export function applyPeopleEvent(db: Db, event: DomainEvent, seq: number): Promise<void> {
  return applyPeopleBatch(db, [{ event, sequence: seq }]);
}

async function applyEvent(b: PeopleBatch, event: DomainEvent, seq: number): Promise<void> {
  const d = event.data as Record<string, unknown>;
  const orgId = (d.organizationId as string) ?? event.organizationId;
  switch (event.type) {
    case 'organization.created':
      if (!(await b.meta.get(orgId)))
        b.meta.put({ _id: orgId, name: d.name as string, slug: d.slug as string, createdAt: event.occurredAt, groups: {}, projects: {} });
      return;

    case 'organization.member-added': {
      const userId = d.userId as string;
      const profile = await b.users.get(userId);
      await insertPerson(
        b,
        orgId,
        userPersonDocument(positionKey(seq), {
          userId,
          username: profile?.username ?? (d.username as string),
          name: profile?.name,
          email: profile?.email,
          roleId: d.roleId as string,
        }),
      );
      const user = (await b.users.get(userId)) ?? { _id: userId, orgIds: [] };
      user.orgIds = [...new Set([...(user.orgIds ?? []), orgId])];
      b.users.put(user);
      return;
    }

    case 'organization.member-removed': {
      const userId = d.userId as string;
      await removePerson(b, orgId, userId);
      const user = await b.users.get(userId);
      if (user) b.users.put({ ...user, orgIds: (user.orgIds ?? []).filter((o) => o !== orgId) });
      for (const groupId of d.groupIds as string[]) {
        const members = await b.members.get(groupId);
        if (members) b.members.put({ ...members, memberIds: members.memberIds.filter((m) => m !== userId) });
      }
      return;
    }

    case 'group.created': {
      const groupId = d.groupId as string;
      const memberIds = d.memberIds as string[];
      await insertPerson(b, orgId, groupPersonDocument(positionKey(seq), { groupId, name: d.name as string, roleId: d.roleId as string }));
      if (!(await b.members.get(groupId))) b.members.put({ _id: groupId, organizationId: orgId, memberIds });
      await changeMeta(b, orgId, (doc) => {
        doc.groups[groupId] = { name: d.name as string, description: d.description as string, roleId: d.roleId as string, seq };
      });
      for (const userId of memberIds) await updatePerson(b, orgId, userId, (doc) => addTo(doc.groupIds, groupId));
      return;
    }

    case 'group.details-changed': {
      const groupId = d.groupId as string;
      await changeMeta(b, orgId, (doc) => {
        const group = doc.groups[groupId];
        if (group) Object.assign(group, { name: d.name as string, description: d.description as string });
      });
      await renamePerson(b, orgId, groupId, { name: d.name as string, search: searchTerms({ name: d.name as string }) });
      return;
    }

    case 'group.member-added': {
      const members = await b.members.get(d.groupId as string);
      if (members) b.members.put({ ...members, memberIds: addTo([...members.memberIds], d.userId as string) });
      await updatePerson(b, orgId, d.userId as string, (doc) => addTo(doc.groupIds, d.groupId as string));
      return;
    }

    case 'group.member-removed': {
      const members = await b.members.get(d.groupId as string);
      if (members) b.members.put({ ...members, memberIds: members.memberIds.filter((m) => m !== d.userId) });
      await updatePerson(b, orgId, d.userId as string, (doc) => (doc.groupIds = doc.groupIds.filter((g) => g !== d.groupId)));
      return;
    }

    case 'group.deleted': {
      const groupId = d.groupId as string;
      const members = await b.members.get(groupId);
      for (const userId of members?.memberIds ?? []) await updatePerson(b, orgId, userId, (doc) => (doc.groupIds = doc.groupIds.filter((g) => g !== groupId)));
      await removePerson(b, orgId, groupId);
      await changeMeta(b, orgId, (doc) => delete doc.groups[groupId]);
      b.members.delete(groupId);
      return;
    }

    case 'project.created':
      await changeMeta(b, orgId, (doc) => {
        doc.projects[d.projectId as string] = { name: d.name as string, ownerId: d.ownerId as string, seq };
      });
      return;
    case 'project.owner-changed':
      await changeMeta(b, orgId, (doc) => {
        const project = doc.projects[d.projectId as string];
        if (project) project.ownerId = d.ownerId as string;
      });
      return;
    case 'project.deleted':
      await changeMeta(b, orgId, (doc) => delete doc.projects[d.projectId as string]);
      return;

    // identity: profiles
    case 'user.created':
      await refreshProfile(b, d.userId as string, { username: d.username as string, name: d.name as string, email: d.email as string });
      return;
    case 'user.username-changed':
      await refreshProfile(b, d.userId as string, { username: d.username as string });
      return;
    case 'user.screen-name-changed':
      await refreshProfile(b, d.userId as string, { name: d.name as string });
      return;
    case 'user.email-changed':
      await refreshProfile(b, d.userId as string, { email: d.email as string });
      return;

    // role names (authorization) and direct organization roles (membership's bindings; authorization's legacy ones)
    case 'role.created':
    case 'role.changed':
      b.roles.put({ ...((await b.roles.get(d.roleId as string)) ?? {}), _id: d.roleId as string, organizationId: orgId, name: d.name as string });
      return;
    case 'role.deleted':
      b.roles.delete(d.roleId as string);
      return;
    case 'role.assigned':
      if (d.projectId === null || d.projectId === undefined)
        await setOrganizationRole(b, orgId, d.subjectType as string, d.subjectId as string, d.roleId as string);
      return;
    case 'organization.bindings-imported':
      for (const s of d.subjects as Array<{ subjectType: string; subjectId: string; roleId: string | null }>)
        if (s.roleId !== null) await setOrganizationRole(b, orgId, s.subjectType, s.subjectId, s.roleId);
      return;
    default:
      return;
  }
}

function addTo(list: string[], value: string): string[] {
  if (!list.includes(value)) list.push(value);
  return list;
}

/**
 * Consumes every event of the JetStream stream (not only the ones it uses, so that its checkpoint reaches
 * the stream's last sequence and a query can wait for exactly that: read-your-writes), in batches of up to
 * PEOPLE_BATCH, in the replica holding the projection's lease (`runLeasedProjection`).
 */
export function startPeopleProjection(infra: Infrastructure): LeasedProjection {
  const running = runLeasedProjection({
    name: PEOPLE_PROJECTION,
    db: infra.db,
    js: infra.js,
    jsm: infra.jsm,
    naming: infra.naming,
    subjects: [allEventsSubject()],
    maxBatch: PEOPLE_BATCH,
    logger: infra.logger,
    onDeadLetter: () => infra.deadLetters.inc({ projection: PEOPLE_PROJECTION }),
    metrics: infra.consumerMetrics,
    apply: (batch: StreamEvent[]) =>
      applyPeopleBatch(
        infra.db,
        batch.flatMap((e) => (e.event ? [{ event: e.event, sequence: e.sequence }] : [])),
      ),
  });
  infra.onClose.push(() => running.stop());
  return running;
}
