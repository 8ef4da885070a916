import { randomUUID } from 'node:crypto';
import { builtInRoleId, EVENT_CATALOGUE, peoplePagesChangedBy, type CatalogueEvent } from '@app/contracts';
import { getGroup, listPeople, listPeopleJson, myOrganizations } from './people.queries';
import { applyPeopleEvent, emptyModel, modelFromSnapshot, snapshotOf, type PeopleModel } from './people.view';

/** An event as the people view reads it, of `organizationId` when given (identity's events have none). */
const peopleEvent = (type: string, data: Record<string, unknown>, organizationId?: string) =>
  ({
    id: randomUUID(),
    type,
    version: 1,
    streamId: 's',
    streamVersion: 1,
    service: 'x',
    occurredAt: new Date().toISOString(),
    ...(organizationId ? { organizationId } : {}),
    data: organizationId ? { organizationId, ...data } : data,
    metadata: { actor: { id: 'system' }, correlationId: 'c', causationId: 'c', medium: 'system' },
  }) as unknown as CatalogueEvent;

describe('people model: membership, identity and authorization events', () => {
  const db: PeopleModel = emptyModel();
  let seq = 0;
  const org = randomUUID();
  const owner = randomUUID();
  const ann = randomUUID();
  const bob = randomUUID();
  const group = randomUUID();
  const custom = randomUUID();
  const member = builtInRoleId(org, 'member');
  const admin = builtInRoleId(org, 'admin');

  const apply = async (type: string, data: Record<string, unknown>, scoped = true) => {
    const event = peopleEvent(type, data, scoped ? org : undefined);
    const at = ++seq;
    applyPeopleEvent(db, event, at);
    return { event, at };
  };
  const list = (q: Record<string, unknown> = {}) => listPeople(db, { organizationId: org, ...q });
  const person = async (id: string) => (await list({ limit: 500 })).items.find((p) => p.id === id);

  beforeAll(async () => {
    await apply('user.created', { userId: ann, username: 'ann', email: 'ann@example.com', name: 'Ann Lee' }, false);
    await apply('organization.created', { name: 'Org', slug: 'org', ownerId: owner });
    await apply('organization.member-added', { userId: owner, username: 'owner', roleId: builtInRoleId(org, 'owner'), via: 'creator' });
    await apply('organization.member-added', { userId: ann, username: 'ann', roleId: member, via: 'invite' });
    await apply('organization.member-added', { userId: bob, username: 'bob', roleId: member, via: 'account' });
    // identity's event after the member joined: the profile is filled in afterwards
    await apply('user.created', { userId: bob, username: 'bob', email: 'bob@example.com', name: 'Bob Stone' }, false);
    await apply('group.created', { groupId: group, name: 'Devs', description: '', memberIds: [ann], roleId: member });
  });
  it('lists users with identity profiles and groups, in join order', async () => {
    const page = await list();
    expect(page.items.map((p) => p.id)).toEqual([owner, ann, bob, group]);
    expect(await person(bob)).toMatchObject({ name: 'Bob Stone', email: 'bob@example.com', username: 'bob' });
    expect(await person(ann)).toEqual({
      type: 'user',
      id: ann,
      name: 'Ann Lee',
      username: 'ann',
      email: 'ann@example.com',
      roles: [
        { id: member, name: 'Member', source: 'direct' },
        { id: member, name: 'Member', source: 'group', groups: [{ id: group, name: 'Devs' }] },
      ],
      groups: [{ id: group, name: 'Devs' }],
    });
  });

  it('a role given by two groups is listed once, naming both groups', async () => {
    const ops = randomUUID();
    await apply('group.created', { groupId: ops, name: 'Ops', description: '', memberIds: [ann], roleId: member });
    expect((await person(ann))!.roles).toEqual([
      { id: member, name: 'Member', source: 'direct' },
      {
        id: member,
        name: 'Member',
        source: 'group',
        groups: [
          { id: group, name: 'Devs' },
          { id: ops, name: 'Ops' },
        ],
      },
    ]);
    await apply('group.deleted', { groupId: ops, name: 'Ops' });
    expect((await person(ann))!.roles[1]).toEqual({ id: member, name: 'Member', source: 'group', groups: [{ id: group, name: 'Devs' }] });
  });

  it('a group role (custom, then renamed) shows on its members with source group; roleId finds them', async () => {
    await apply('role.created', { roleId: custom, name: 'Deployers', description: '', scope: 'organization', permissions: ['organization.view'] });
    await apply('role.assigned', { subjectType: 'group', subjectId: group, projectId: null, roleId: custom, roleName: 'Deployers', previousRoleId: member });
    expect((await person(ann))!.roles).toEqual([
      { id: member, name: 'Member', source: 'direct' },
      { id: custom, name: 'Deployers', source: 'group', groups: [{ id: group, name: 'Devs' }] },
    ]);
    await apply('role.changed', {
      roleId: custom,
      name: 'Shippers',
      description: '',
      scope: 'organization',
      permissions: ['organization.view'],
      previousName: 'Deployers',
    });
    expect((await person(ann))!.roles[1]).toEqual({ id: custom, name: 'Shippers', source: 'group', groups: [{ id: group, name: 'Devs' }] });
    expect((await person(group))!.roles).toEqual([{ id: custom, name: 'Shippers', source: 'direct' }]);
    expect((await list({ roleId: custom })).items.map((p) => p.id)).toEqual([ann, group]);
    expect((await getGroup(db, { organizationId: org, groupId: group })).role).toEqual({ id: custom, name: 'Shippers' });
  });

  it('role.assigned at organization scope replaces a user’s direct role; project bindings change nothing here', async () => {
    await apply('role.assigned', { subjectType: 'user', subjectId: bob, projectId: null, roleId: admin, roleName: 'Admin', previousRoleId: member });
    await apply('role.assigned', {
      subjectType: 'user',
      subjectId: bob,
      projectId: randomUUID(),
      roleId: builtInRoleId(org, 'project-reader'),
      roleName: 'Reader',
      previousRoleId: null,
    });
    expect((await person(bob))!.roles).toEqual([{ id: admin, name: 'Admin', source: 'direct' }]);
    expect((await list({ roleId: admin })).items.map((p) => p.id)).toEqual([bob]);
  });

  it('organization.bindings-imported restates organization roles (users and groups); a role that no longer exists shows as Member', async () => {
    await apply('organization.bindings-imported', {
      subjects: [
        { subjectType: 'user', subjectId: bob, roleId: member, projectRoles: [] },
        { subjectType: 'group', subjectId: group, roleId: admin, projectRoles: [{ projectId: randomUUID(), roleId: builtInRoleId(org, 'project-reader') }] },
      ],
    });
    expect((await person(bob))!.roles).toEqual([{ id: member, name: 'Member', source: 'direct' }]);
    expect((await getGroup(db, { organizationId: org, groupId: group })).role).toEqual({ id: admin, name: 'Admin' });
    expect((await person(ann))!.roles).toEqual([
      { id: member, name: 'Member', source: 'direct' },
      { id: admin, name: 'Admin', source: 'group', groups: [{ id: group, name: 'Devs' }] },
    ]);
    // bound after its deletion (the deletion's in-use check did not see the binding yet): counts as Member
    const gone = randomUUID();
    await apply('role.created', { roleId: gone, name: 'Gone', description: '', scope: 'organization', permissions: ['organization.view'] });
    await apply('role.deleted', { roleId: gone, name: 'Gone', scope: 'organization' });
    await apply('role.assigned', { subjectType: 'user', subjectId: bob, projectId: null, roleId: gone, roleName: 'Gone', previousRoleId: member });
    expect((await person(bob))!.roles).toEqual([{ id: member, name: 'Member', source: 'direct' }]);
    await apply('role.assigned', { subjectType: 'user', subjectId: bob, projectId: null, roleId: admin, roleName: 'Admin', previousRoleId: gone });
  });

  it('search follows username and name changes, by prefix of any term, case-insensitively', async () => {
    expect((await list({ search: 'STO' })).items.map((p) => p.id)).toEqual([bob]);
    await apply('user.username-changed', { userId: bob, username: 'robert', previousUsername: 'bob' }, false);
    await apply('user.screen-name-changed', { userId: bob, name: 'Robert Stone', previousName: 'Bob Stone' }, false);
    expect((await list({ search: 'bob' })).items.map((p) => p.id)).toEqual([bob]); // the email still starts with bob
    expect((await list({ search: 'rob' })).items.map((p) => p.username)).toEqual(['robert']);
    expect((await list({ search: 'robert s' })).items.map((p) => p.name)).toEqual(['Robert Stone']);
    expect((await list({ search: 'dev', type: 'group' })).items.map((p) => p.id)).toEqual([group]);
    expect((await list({ search: 'dev', type: 'user' })).items).toEqual([]);
  });

  it('member removal takes the user out of lists, search, groups and their organizations; re-applying changes nothing', async () => {
    const removed = await apply('organization.member-removed', { userId: ann, username: 'ann', groupIds: [group] });
    await applyPeopleEvent(db, removed.event, removed.at);
    expect(await person(ann)).toBeUndefined();
    expect((await list({ search: 'ann' })).items).toEqual([]);
    expect((await getGroup(db, { organizationId: org, groupId: group })).memberIds).toEqual([]);
    expect((await myOrganizations(db, ann)).items).toEqual([]);
    expect((await myOrganizations(db, bob)).items).toEqual([{ id: org, name: 'Org', slug: 'org' }]);
  });

  it('deleting a group removes it from its members and the list', async () => {
    await apply('group.member-added', { groupId: group, groupName: 'Devs', userId: bob });
    expect((await person(bob))!.groups).toEqual([{ id: group, name: 'Devs' }]);
    await apply('group.deleted', { groupId: group, name: 'Devs' });
    expect((await person(bob))!.groups).toEqual([]);
    expect((await list({ type: 'group' })).items).toEqual([]);
  });
});

describe('people model: a snapshot, then the rest of the stream', () => {
  const org = randomUUID();
  const member = builtInRoleId(org, 'member');
  const admin = builtInRoleId(org, 'admin');
  const users = Array.from({ length: 30 }, (_, i) => ({ id: randomUUID(), name: `Person ${i}`, username: `p${i}` }));
  const group = randomUUID();
  const custom = randomUUID();

  const event = (type: string, data: Record<string, unknown>, scoped = true) => peopleEvent(type, data, scoped ? org : undefined);
  const events = [
    event('organization.created', { name: 'Org', slug: 'org', ownerId: users[0].id }),
    ...users.map((u) => event('user.created', { userId: u.id, username: u.username, email: `${u.username}@example.com`, name: u.name }, false)),
    ...users.map((u) => event('organization.member-added', { userId: u.id, username: u.username, roleId: member, via: 'account' })),
    event('role.created', { roleId: custom, name: 'Deployers', description: '', scope: 'organization', permissions: ['organization.view'] }),
    event('group.created', { groupId: group, name: 'Devs', description: 'd', memberIds: users.slice(0, 5).map((u) => u.id), roleId: member }),
    event('role.assigned', { subjectType: 'group', subjectId: group, projectId: null, roleId: custom, roleName: 'Deployers', previousRoleId: member }),
    event('role.assigned', { subjectType: 'user', subjectId: users[7].id, projectId: null, roleId: admin, roleName: 'Admin', previousRoleId: member }),
    event('user.screen-name-changed', { userId: users[8].id, name: 'Zed Quux', previousName: users[8].name }, false),
    event('group.member-added', { groupId: group, groupName: 'Devs', userId: users[9].id }),
    event('group.member-removed', { groupId: group, groupName: 'Devs', userId: users[1].id }),
    event('organization.member-removed', { userId: users[2].id, username: users[2].username, groupIds: [group] }),
    event('project.created', { projectId: randomUUID(), name: 'P', ownerId: users[0].id }),
    event('group.details-changed', { groupId: group, name: 'Builders', description: 'b', previousName: 'Devs' }),
    event('organization.member-added', { userId: users[2].id, username: users[2].username, roleId: member, via: 'invite' }),
    event('user.username-changed', { userId: users[3].id, username: 'zora', previousUsername: users[3].username }, false),
  ].map((e, i) => ({ event: e, sequence: i + 1 }));

  const readModel = (m: PeopleModel) => ({
    page: listPeople(m, { organizationId: org, limit: 500 }),
    pages: [listPeople(m, { organizationId: org, limit: 7 }).nextCursor, listPeople(m, { organizationId: org, limit: 7, search: 'p' }).items],
    zed: listPeople(m, { organizationId: org, search: 'zed' }).items.map((p) => p.id),
    zora: listPeople(m, { organizationId: org, search: 'zo' }).items.map((p) => p.id),
    p1: listPeople(m, { organizationId: org, search: 'p1' }).items.map((p) => p.id),
    builders: listPeople(m, { organizationId: org, search: 'build' }).items.map((p) => p.id),
    custom: listPeople(m, { organizationId: org, roleId: custom }).items.map((p) => p.id),
    group: getGroup(m, { organizationId: org, groupId: group }),
    readded: myOrganizations(m, users[2].id),
    kept: myOrganizations(m, users[3].id),
  });

  it('ends where replaying every event ends, whatever sequence the snapshot was taken at', () => {
    const full = emptyModel();
    for (const { event: e, sequence } of events) applyPeopleEvent(full, e, sequence);
    const expected = readModel(full);
    expect(expected.page.items).toHaveLength(31); // 30 members (one removed and added again, now last) and the group
    expect(expected.page.items.at(-1)!.id).toBe(users[2].id);
    expect(expected.zed).toEqual([users[8].id]);
    expect(expected.zora).toEqual([users[3].id]);
    expect(expected.builders).toEqual([group]);
    expect(expected.custom).toEqual([users[0].id, users[3].id, users[4].id, users[9].id, group]);
    for (const at of [0, 1, 31, 61, 64, events.length - 1, events.length]) {
      const restored = modelFromSnapshot(JSON.parse(JSON.stringify(snapshotOf(replay(events.slice(0, at))))));
      for (const { event: e, sequence } of events.slice(at)) applyPeopleEvent(restored, e, sequence);
      expect(restored.sequence).toBe(events.length);
      expect(readModel(restored)).toEqual(expected);
    }
  });

  it('a kept page (listPeopleJson) reads as a fresh one after every event, and is kept while nothing it shows changes', () => {
    const m = emptyModel();
    const queries = [{ limit: 500 }, { limit: 7 }, { search: 'p' }, { search: 'zo' }, { roleId: custom }, { type: 'group' as const }];
    const outcome = (page: () => string) => {
      try {
        return page();
      } catch (err) {
        return (err as Error).message; // before the organization exists
      }
    };
    const kept = (q: object) => outcome(() => listPeopleJson(m, { organizationId: org, ...q }).json);
    const fresh = (q: object) => outcome(() => JSON.stringify(listPeople(m, { organizationId: org, ...q })));
    for (const { event: e, sequence } of events) {
      for (const q of queries) kept(q); // each page kept as it was before the event
      applyPeopleEvent(m, e, sequence);
      for (const q of queries) expect(kept(q)).toBe(fresh(q));
    }
    const first = listPeopleJson(m, { organizationId: org });
    expect(listPeopleJson(m, { organizationId: org })).toBe(first);
    expect(listPeopleJson(m, { organizationId: org, search: ' Zo' })).toBe(listPeopleJson(m, { organizationId: org, search: 'zo' }));
    // an event the model does not use (a password set) keeps it; one it uses does not
    applyPeopleEvent(m, event('user.password-set', { userId: users[0].id, reason: 'reset' }, false), events.length + 1);
    expect(listPeopleJson(m, { organizationId: org })).toBe(first);
    applyPeopleEvent(
      m,
      event('user.email-changed', { userId: users[0].id, email: 'new@example.com', previousEmail: 'p0@example.com' }, false),
      events.length + 2,
    );
    expect(listPeopleJson(m, { organizationId: org }).json).toContain('new@example.com');
  });

  const replay = (es: typeof events) => {
    const m = emptyModel();
    for (const { event: e, sequence } of es) applyPeopleEvent(m, e, sequence);
    return m;
  };
});

describe('people model: pages and search in a larger organization', () => {
  const org = randomUUID();
  const member = builtInRoleId(org, 'member');
  const admin = builtInRoleId(org, 'admin');
  const FIRST = ['Maria', 'John', 'Aiko', 'Pedro', 'Olga', 'Wei', 'Fatima', 'Liam'];
  const m = emptyModel();
  let seq = 0;
  const apply = (type: string, data: Record<string, unknown>, scoped = true) => applyPeopleEvent(m, peopleEvent(type, data, scoped ? org : undefined), ++seq);
  const ids = Array.from({ length: 3000 }, () => randomUUID());
  const groups = Array.from({ length: 20 }, () => randomUUID());

  /** every page of a query, following the cursors */
  const all = (q: Record<string, unknown>) => {
    const out: string[] = [];
    let cursor: string | undefined;
    do {
      const page = listPeople(m, { organizationId: org, limit: 50, ...q, ...(cursor ? { cursor } : {}) });
      out.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  };
  /** the same by brute force: every person in join order, tested one by one */
  const expected = (test: (p: { id: string; terms: string[]; type: string; roleId: string }) => boolean) =>
    m.orgs
      .get(org)!
      .order.filter(test)
      .map((p) => p.id);

  beforeAll(() => {
    apply('organization.created', { name: 'Big', slug: 'big', ownerId: ids[0] });
    for (const [g, id] of groups.entries())
      apply('group.created', { groupId: id, name: `Team ${g}`, description: '', memberIds: [], roleId: g === 3 ? admin : member });
    for (const [i, id] of ids.entries()) {
      apply('user.created', { userId: id, username: `user${i}`, email: `user${i}@example.com`, name: `${FIRST[i % FIRST.length]} Number${i}` }, false);
      apply('organization.member-added', { userId: id, username: `user${i}`, roleId: i % 100 === 0 ? admin : member, via: 'account' });
      if (i % 7 === 0) apply('group.member-added', { groupId: groups[i % groups.length], groupName: 'g', userId: id });
    }
    // removals and renames: dead entries in the search index, people gone from the middle of the list
    for (let i = 10; i < 3000; i += 97) apply('organization.member-removed', { userId: ids[i], username: `user${i}`, groupIds: [] });
    for (let i = 11; i < 3000; i += 89) apply('user.screen-name-changed', { userId: ids[i], name: `Renamed ${i}`, previousName: 'x' }, false);
  });

  it('search answers what testing every person would, for prefixes matching many, some and one (walk and index alike)', () => {
    for (const search of ['u', 'user', 'maria', 'user1', 'user29', 'user2999', 'user2999@', 'renamed', 'renamed 11', 'number3', 'team', 'nobody', 'john n']) {
      const want = expected((p) => p.terms.some((t) => t.startsWith(search)));
      expect({ search, ids: all({ search }) }).toEqual({ search, ids: want });
    }
    expect(all({ search: 'user10' })).not.toContain(ids[10]); // removed
    expect(all({ search: 'renamed 11' })).toContain(ids[11]);
    expect(all({ search: 'pedro number11' })).not.toContain(ids[11]); // the old name is gone from the index
  });

  it('filters by type and by role, directly or through a group, with search', () => {
    expect(all({ type: 'group' })).toEqual(groups);
    const viaTeam3 = (p: { id: string }) => m.orgs.get(org)!.people.get(p.id)!.groupIds.includes(groups[3]);
    expect(all({ roleId: admin })).toEqual(expected((p) => p.roleId === admin || viaTeam3(p)));
    expect(all({ roleId: admin, search: 'maria' })).toEqual(expected((p) => (p.roleId === admin || viaTeam3(p)) && p.terms.some((t) => t.startsWith('maria'))));
    expect(all({ type: 'user', search: 'team' })).toEqual([]);
  });

  it('a cursor stays where it was when people join or leave between pages', () => {
    const first = listPeople(m, { organizationId: org, limit: 50 });
    const next = listPeople(m, { organizationId: org, limit: 50, cursor: first.nextCursor! });
    apply('organization.member-removed', { userId: first.items[10].id, username: 'x', groupIds: [] });
    apply('organization.member-removed', { userId: next.items[0].id, username: 'x', groupIds: [] });
    const late = randomUUID();
    apply('organization.member-added', { userId: late, username: 'late', roleId: member, via: 'invite' });
    const after = listPeople(m, { organizationId: org, limit: 50, cursor: first.nextCursor! });
    expect(after.items.map((p) => p.id)).toEqual([...next.items.slice(1).map((p) => p.id), expect.any(String)]);
    expect(after.items[48].id).toBe(m.orgs.get(org)!.order[seqIndexOf(after.items[47].id) + 1].id);
    expect(all({}).at(-1)).toBe(late);
    expect(() => listPeople(m, { organizationId: org, cursor: 'bm90LWEta2V5' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => listPeople(m, { organizationId: randomUUID() })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
  const seqIndexOf = (id: string) => m.orgs.get(org)!.order.findIndex((p) => p.id === id);
});

describe('myOrganizations: pages by name', () => {
  const m = emptyModel();
  const user = randomUUID();
  let seq = 0;
  const apply = (organizationId: string | undefined, type: string, data: Record<string, unknown>) =>
    applyPeopleEvent(m, peopleEvent(type, data, organizationId), ++seq);
  const names = ['delta', 'Alpha', 'charlie', 'bravo', 'echo', 'alpha'];
  const orgs = names.map(() => randomUUID());

  beforeAll(() => {
    apply(undefined, 'user.created', { userId: user, username: 'pat', email: 'pat@example.com', name: 'Pat' });
    for (const [i, id] of orgs.entries()) {
      apply(id, 'organization.created', { name: names[i], slug: `org-${i}`, ownerId: randomUUID() });
      apply(id, 'organization.member-added', { userId: user, username: 'pat', roleId: builtInRoleId(id, 'member'), via: 'invite' });
    }
  });

  it('all of them, by name; or pages that follow each other without a gap or a repeat', () => {
    const all = myOrganizations(m, user, { all: true });
    expect(all.nextCursor).toBeNull();
    expect(all.items.map((o) => o.name.toLowerCase())).toEqual(['alpha', 'alpha', 'bravo', 'charlie', 'delta', 'echo']);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = myOrganizations(m, user, { limit: 4, cursor });
      expect(page.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.items.map((o) => o.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all.items.map((o) => o.id));
    expect(myOrganizations(m, user)).toEqual(all); // the default page (50) holds them all
    expect(myOrganizations(m, user, { limit: 6 }).nextCursor).toBeNull();
    expect(myOrganizations(m, user, { limit: 5 }).nextCursor).not.toBeNull();
  });

  it('a cursor this query did not make is VALIDATION_FAILED', () => {
    expect(() => myOrganizations(m, user, { limit: 2, cursor: 'bm90LWFuLW9yZw' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('peoplePagesChangedBy (what the gateway drops its kept people pages on)', () => {
  /** the least value of a JSON schema: every property, each of its first type or option, empty lists */
  const least = (schema: Record<string, unknown>): unknown => {
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum)) return schema.enum[0];
    const options = (schema.anyOf ?? schema.oneOf) as Array<Record<string, unknown>> | undefined;
    if (options) return least(options[0]);
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === 'object')
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>).map(([k, v]) => [k, least(v)]));
    return { string: 'x', array: [], number: 0, integer: 0, boolean: false, null: null }[type as string];
  };
  // one event of every type of the catalogue, its data made from its own schema
  const everyType = EVENT_CATALOGUE.map(
    (d) => ({ ...(peopleEvent(d.type, least(d.data) as Record<string, unknown>) as object), service: d.service, version: d.version }) as CatalogueEvent,
  );

  it('names some page for every event the people view folds', () => {
    const folded = everyType.filter((event) => {
      const model = emptyModel();
      applyPeopleEvent(model, event, 1);
      return model.changes > 0;
    });
    expect(folded.length).toBeGreaterThan(20);
    expect(folded.filter((event) => peoplePagesChangedBy(event) === undefined).map((e) => `${e.service}/${e.type}`)).toEqual([]);
  });

  it('names the organization of an organization-scoped event, every organization for a profile, none for a token', () => {
    const org = randomUUID();
    expect(peoplePagesChangedBy({ ...peopleEvent('organization.member-added', { userId: 'u' }, org), service: 'membership' } as CatalogueEvent)).toBe(org);
    expect(peoplePagesChangedBy({ ...peopleEvent('user.email-changed', { userId: 'u', email: 'a@b.c' }), service: 'identity' } as CatalogueEvent)).toBe('all');
    expect(peoplePagesChangedBy({ ...peopleEvent('user.api-token-reset', { userId: 'u' }), service: 'identity' } as CatalogueEvent)).toBeUndefined();
  });
});
