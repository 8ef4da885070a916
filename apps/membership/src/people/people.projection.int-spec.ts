import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { builtInRoleId, type DomainEvent } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { applyPeopleBatch, applyPeopleEvent } from './people.projection';
import { getGroup, listPeople, myOrganizations } from './people.queries';

describe('people read model: membership, identity and authorization events (real database)', () => {
  let mongo: MongoClient;
  let db: Db;
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
    const event = {
      id: randomUUID(),
      type,
      version: 1,
      streamId: 's',
      streamVersion: 1,
      service: 'x',
      occurredAt: new Date().toISOString(),
      ...(scoped ? { organizationId: org } : {}),
      data: scoped ? { organizationId: org, ...data } : data,
      metadata: { actor: { id: 'system' }, correlationId: 'c', causationId: 'c', medium: 'system' },
    } as DomainEvent;
    const at = ++seq;
    await applyPeopleEvent(db, event, at);
    return { event, at };
  };
  const list = (q: Record<string, unknown> = {}) => listPeople(db, { organizationId: org, ...q });
  const person = async (id: string) => (await list({ limit: 500 })).items.find((p) => p.id === id);

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('people-projection'));
    await apply('user.created', { userId: ann, username: 'ann', email: 'ann@example.com', name: 'Ann Lee' }, false);
    await apply('organization.created', { name: 'Org', slug: 'org', ownerId: owner });
    await apply('organization.member-added', { userId: owner, username: 'owner', roleId: builtInRoleId(org, 'owner'), via: 'creator' });
    await apply('organization.member-added', { userId: ann, username: 'ann', roleId: member, via: 'invite' });
    await apply('organization.member-added', { userId: bob, username: 'bob', roleId: member, via: 'account' });
    // identity's event after the member joined: the profile is filled in afterwards
    await apply('user.created', { userId: bob, username: 'bob', email: 'bob@example.com', name: 'Bob Stone' }, false);
    await apply('group.created', { groupId: group, name: 'Devs', description: '', memberIds: [ann], roleId: member });
  });
  afterAll(() => mongo?.close());

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
        { id: member, name: 'Member', source: 'group' },
      ],
      groups: [{ id: group, name: 'Devs' }],
    });
  });

  it('a group role (custom, then renamed) shows on its members with source group; roleId finds them', async () => {
    await apply('role.created', { roleId: custom, name: 'Deployers', description: '', scope: 'organization', permissions: ['organization.view'] });
    await apply('role.assigned', { subjectType: 'group', subjectId: group, projectId: null, roleId: custom, roleName: 'Deployers', previousRoleId: member });
    expect((await person(ann))!.roles).toEqual([
      { id: member, name: 'Member', source: 'direct' },
      { id: custom, name: 'Deployers', source: 'group' },
    ]);
    await apply('role.changed', {
      roleId: custom,
      name: 'Shippers',
      description: '',
      scope: 'organization',
      permissions: ['organization.view'],
      previousName: 'Deployers',
    });
    expect((await person(ann))!.roles[1]).toEqual({ id: custom, name: 'Shippers', source: 'group' });
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
      { id: admin, name: 'Admin', source: 'group' },
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

describe('people read model: a batch of events (real database)', () => {
  let mongo: MongoClient;
  let one: Db;
  let batched: Db;
  const org = randomUUID();
  const member = builtInRoleId(org, 'member');
  const admin = builtInRoleId(org, 'admin');
  const users = Array.from({ length: 30 }, (_, i) => ({ id: randomUUID(), name: `Person ${i}`, username: `p${i}` }));
  const group = randomUUID();
  const custom = randomUUID();

  const event = (type: string, data: Record<string, unknown>, scoped = true) =>
    ({
      id: randomUUID(),
      type,
      version: 1,
      streamId: 's',
      streamVersion: 1,
      service: 'x',
      occurredAt: new Date().toISOString(),
      ...(scoped ? { organizationId: org } : {}),
      data: scoped ? { organizationId: org, ...data } : data,
      metadata: { actor: { id: 'system' }, correlationId: 'c', causationId: 'c', medium: 'system' },
    }) as DomainEvent;
  // more look-ups of one collection than are read one by one (`$in`), and events on documents of the same batch
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
  ].map((e, i) => ({ event: e, sequence: i + 1 }));

  const readModel = async (db: Db) => ({
    page: await listPeople(db, { organizationId: org, limit: 500 }),
    zed: (await listPeople(db, { organizationId: org, search: 'zed' })).items.map((p) => p.id),
    p1: (await listPeople(db, { organizationId: org, search: 'p1' })).items.map((p) => p.id),
    group: await getGroup(db, { organizationId: org, groupId: group }),
    removed: await myOrganizations(db, users[2].id),
    kept: await myOrganizations(db, users[3].id),
  });

  beforeAll(async () => {
    mongo = await testMongo();
    one = mongo.db(testDatabaseName('people-one-by-one'));
    batched = mongo.db(testDatabaseName('people-batched'));
  });
  afterAll(() => mongo?.close());

  it('ends where applying the events one by one ends, and applying the batch again changes nothing', async () => {
    for (const { event: e, sequence } of events) await applyPeopleEvent(one, e, sequence);
    await applyPeopleBatch(batched, events);
    const expected = await readModel(one);
    expect(expected.page.items).toHaveLength(30); // 30 members, one removed, and the group
    expect(expected.zed).toEqual([users[8].id]);
    expect(await readModel(batched)).toEqual(expected);
    await applyPeopleBatch(batched, events);
    expect(await readModel(batched)).toEqual(expected);
  });
});
