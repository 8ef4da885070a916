import { builtInRoleId, EVENT_CATALOGUE, fullEventName, validateEvent, type CatalogueEvent } from '@app/contracts';
import { DESCRIBERS, entryId, projectEvent, UnmappableEvent, type StoredEntry } from './audit-entry.mapper';
import { applyToMap, referencedIds, type DirectoryRecord } from './directory';

const ORG = '11111111-1111-4111-8111-111111111111';
const ORG2 = '22222222-2222-4222-8222-222222222222';
const ALICE = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const BOB = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const GROUP = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const PROJECT = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const ROLE = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';
const TOKEN_ID = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
const MEMBER_ROLE = builtInRoleId(ORG, 'member');
const SA_ID = '99999999-9999-4999-8999-999999999999';
const SA = { serviceAccountId: SA_ID, organizationId: ORG };

let n = 0;
/** An event as the consumer hands it over; every example is checked against the catalogue below ("valid examples"). */
function event(type: string, data: Record<string, unknown>, organizationId?: string): CatalogueEvent {
  n++;
  const service = EVENT_CATALOGUE.find((d) => d.type === type)!.service;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    version: 1,
    streamId: 's',
    streamVersion: n,
    service,
    occurredAt: `2026-03-01T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
    ...(organizationId ? { organizationId } : {}),
    data,
    metadata: {
      actor: { id: ALICE, username: 'alice-at-request' },
      correlationId: 'c',
      causationId: 'c',
      requestId: 'req-1',
      ip: '10.0.0.7',
      medium: 'api',
    },
  } as CatalogueEvent;
}

/** A valid example of every event type, and what it must become. */
const EXAMPLES: Record<string, { event: () => CatalogueEvent; expect: Array<Partial<StoredEntry>> }> = {
  'user.created.v1': {
    event: () =>
      event('user.created', {
        userId: BOB,
        username: 'bob',
        email: 'bob@example.com',
        name: 'Bob',
        createdBy: 'organization',
        managedByOrganizationId: ORG,
        temporaryPassword: true,
      }),
    expect: [{ organizationId: ORG, resource: 'User', operation: 'Added', resourceId: BOB, resourceName: 'bob' }],
  },
  'user.api-token-reset.v1': {
    event: () => event('user.api-token-reset', { userId: BOB, tokenId: TOKEN_ID }),
    expect: [
      { organizationId: ORG, resource: 'User', operation: 'Modified', resourceId: BOB, resourceName: 'bob' },
      { organizationId: ORG2, resource: 'User', operation: 'Modified', resourceId: BOB, resourceName: 'bob' },
    ],
  },
  'user.api-token-revoked.v1': {
    event: () => event('user.api-token-revoked', { userId: BOB, tokenId: TOKEN_ID, reason: 'password-reset', organizationId: ORG }),
    expect: [{ organizationId: ORG, resource: 'User', operation: 'Modified', resourceId: BOB, resourceName: 'bob', metadata: { reason: 'password-reset' } }],
  },
  'user.username-changed.v1': {
    event: () => event('user.username-changed', { userId: BOB, username: 'robert', previousUsername: 'bob' }),
    expect: [
      { organizationId: ORG, resource: 'User', operation: 'Modified', resourceName: 'robert' },
      { organizationId: ORG2, resource: 'User', operation: 'Modified', resourceName: 'robert' },
    ],
  },
  'user.screen-name-changed.v1': {
    event: () => event('user.screen-name-changed', { userId: BOB, name: 'Bobby', previousName: 'Bob' }),
    expect: [
      { organizationId: ORG, resource: 'User', operation: 'Modified' },
      { organizationId: ORG2, resource: 'User', operation: 'Modified' },
    ],
  },
  'user.email-changed.v1': {
    event: () => event('user.email-changed', { userId: BOB, email: 'b@example.com', previousEmail: 'bob@example.com' }),
    expect: [
      { organizationId: ORG, resource: 'User', operation: 'Modified' },
      { organizationId: ORG2, resource: 'User', operation: 'Modified' },
    ],
  },
  'user.password-set.v1': {
    event: () => event('user.password-set', { userId: BOB, temporary: true, reason: 'reset', organizationId: ORG }),
    expect: [{ organizationId: ORG, resource: 'User', operation: 'Modified', resourceId: BOB }],
  },
  'user.sessions-ended.v1': {
    event: () => event('user.sessions-ended', { userId: BOB, reason: 'password-reset' }),
    expect: [],
  },
  'organization.created.v1': {
    event: () => event('organization.created', { organizationId: ORG2, name: 'Beta', slug: 'beta', ownerId: ALICE }, ORG2),
    expect: [{ organizationId: ORG2, resource: 'Organization', operation: 'Added', resourceId: ORG2, resourceName: 'Beta' }],
  },
  'service-account.created.v1': {
    event: () => event('service-account.created', { ...SA, name: 'ci-deploy', description: 'CI', createdBy: ALICE }, ORG),
    expect: [
      {
        organizationId: ORG,
        resource: 'ServiceAccount',
        operation: 'Added',
        resourceId: SA_ID,
        resourceName: 'ci-deploy',
        description: 'created service account ci-deploy',
      },
    ],
  },
  'service-account.details-changed.v1': {
    event: () => event('service-account.details-changed', { ...SA, name: 'ci-release', description: 'CI', previousName: 'ci-deploy' }, ORG),
    expect: [
      {
        organizationId: ORG,
        resource: 'ServiceAccount',
        operation: 'Modified',
        resourceName: 'ci-release',
        description: 'renamed service account ci-deploy to ci-release',
      },
    ],
  },
  'service-account.deactivated.v1': {
    event: () => event('service-account.deactivated', { ...SA, name: 'ci-deploy' }, ORG),
    expect: [{ organizationId: ORG, resource: 'ServiceAccount', operation: 'Modified', metadata: { active: false } }],
  },
  'service-account.reactivated.v1': {
    event: () => event('service-account.reactivated', { ...SA, name: 'ci-deploy' }, ORG),
    expect: [{ organizationId: ORG, resource: 'ServiceAccount', operation: 'Modified', metadata: { active: true } }],
  },
  'service-account.deleted.v1': {
    event: () => event('service-account.deleted', { ...SA, name: 'ci-deploy' }, ORG),
    expect: [{ organizationId: ORG, resource: 'ServiceAccount', operation: 'Removed', resourceId: SA_ID, resourceName: 'ci-deploy' }],
  },
  'service-account.token-created.v1': {
    event: () => event('service-account.token-created', { ...SA, tokenId: TOKEN_ID, name: 'pipeline', expiresAt: '2027-01-01T00:00:00.000Z' }, ORG),
    expect: [
      {
        organizationId: ORG,
        resource: 'ServiceAccount',
        operation: 'Modified',
        resourceId: SA_ID,
        description: 'created token pipeline (expires 2027-01-01T00:00:00.000Z)',
        metadata: { tokenName: 'pipeline', expiresAt: '2027-01-01T00:00:00.000Z' },
      },
    ],
  },
  'service-account.token-revoked.v1': {
    event: () => event('service-account.token-revoked', { ...SA, tokenId: TOKEN_ID, name: 'pipeline' }, ORG),
    expect: [
      { organizationId: ORG, resource: 'ServiceAccount', operation: 'Modified', description: 'revoked token pipeline', metadata: { tokenName: 'pipeline' } },
    ],
  },
  'organization.member-added.v1': {
    event: () => event('organization.member-added', { organizationId: ORG, userId: ALICE, username: 'alice', roleId: MEMBER_ROLE, via: 'invite' }, ORG),
    expect: [
      {
        organizationId: ORG,
        resource: 'Member',
        operation: 'Added',
        resourceId: ALICE,
        resourceName: 'alice',
        metadata: expect.objectContaining({ roleName: 'Member' }),
      },
    ],
  },
  'organization.member-removed.v1': {
    event: () => event('organization.member-removed', { organizationId: ORG, userId: BOB, username: 'bob', groupIds: [GROUP] }, ORG),
    expect: [{ organizationId: ORG, resource: 'Member', operation: 'Removed', resourceId: BOB, resourceName: 'bob' }],
  },
  'group.created.v1': {
    event: () => event('group.created', { organizationId: ORG, groupId: GROUP, name: 'Ops', description: 'd', memberIds: [BOB], roleId: MEMBER_ROLE }, ORG),
    expect: [{ organizationId: ORG, resource: 'Group', operation: 'Added', resourceId: GROUP, resourceName: 'Ops' }],
  },
  'group.details-changed.v1': {
    event: () => event('group.details-changed', { organizationId: ORG, groupId: GROUP, name: 'Ops2', description: 'd', previousName: 'Ops' }, ORG),
    expect: [{ organizationId: ORG, resource: 'Group', operation: 'Modified', resourceName: 'Ops2' }],
  },
  'group.member-added.v1': {
    event: () => event('group.member-added', { organizationId: ORG, groupId: GROUP, groupName: 'Ops', userId: BOB }, ORG),
    expect: [
      { organizationId: ORG, resource: 'Group', operation: 'Modified', resourceId: GROUP, metadata: expect.objectContaining({ userId: BOB, username: 'bob' }) },
    ],
  },
  'group.member-removed.v1': {
    event: () => event('group.member-removed', { organizationId: ORG, groupId: GROUP, groupName: 'Ops', userId: BOB }, ORG),
    expect: [{ organizationId: ORG, resource: 'Group', operation: 'Modified', resourceId: GROUP }],
  },
  'group.deleted.v1': {
    event: () => event('group.deleted', { organizationId: ORG, groupId: GROUP, name: 'Ops' }, ORG),
    expect: [{ organizationId: ORG, resource: 'Group', operation: 'Removed', resourceId: GROUP, resourceName: 'Ops' }],
  },
  'project.created.v1': {
    event: () => event('project.created', { organizationId: ORG, projectId: PROJECT, name: 'Apollo', ownerId: ALICE }, ORG),
    expect: [{ organizationId: ORG, resource: 'Project', operation: 'Added', resourceId: PROJECT, resourceName: 'Apollo' }],
  },
  'project.owner-changed.v1': {
    event: () => event('project.owner-changed', { organizationId: ORG, projectId: PROJECT, name: 'Apollo', ownerId: BOB, previousOwnerId: ALICE }, ORG),
    expect: [{ organizationId: ORG, resource: 'Project', operation: 'Modified', resourceId: PROJECT }],
  },
  'project.deleted.v1': {
    event: () => event('project.deleted', { organizationId: ORG, projectId: PROJECT, name: 'Apollo' }, ORG),
    expect: [{ organizationId: ORG, resource: 'Project', operation: 'Removed', resourceId: PROJECT }],
  },
  'role.created.v1': {
    event: () =>
      event(
        'role.created',
        { organizationId: ORG, roleId: ROLE, name: 'Auditor', description: 'd', scope: 'organization', permissions: ['organization.audit_logs.view'] },
        ORG,
      ),
    expect: [{ organizationId: ORG, resource: 'Role', operation: 'Added', resourceId: ROLE, resourceName: 'Auditor' }],
  },
  'role.changed.v1': {
    event: () =>
      event(
        'role.changed',
        { organizationId: ORG, roleId: ROLE, name: 'Auditors', description: 'd', scope: 'organization', permissions: [], previousName: 'Auditor' },
        ORG,
      ),
    expect: [{ organizationId: ORG, resource: 'Role', operation: 'Modified', resourceName: 'Auditors' }],
  },
  'role.deleted.v1': {
    event: () => event('role.deleted', { organizationId: ORG, roleId: ROLE, name: 'Auditor', scope: 'organization' }, ORG),
    expect: [{ organizationId: ORG, resource: 'Role', operation: 'Removed', resourceId: ROLE }],
  },
  'role.assigned.v1': {
    event: () =>
      event(
        'role.assigned',
        { organizationId: ORG, subjectType: 'user', subjectId: BOB, projectId: null, roleId: ROLE, roleName: 'Auditor', previousRoleId: MEMBER_ROLE },
        ORG,
      ),
    expect: [
      {
        organizationId: ORG,
        resource: 'Member',
        operation: 'Modified',
        resourceId: BOB,
        resourceName: 'bob',
        metadata: expect.objectContaining({ roleName: 'Auditor', previousRoleName: 'Member' }),
      },
    ],
  },
  'organization.bindings-imported.v1': {
    event: () =>
      event(
        'organization.bindings-imported',
        { organizationId: ORG, subjects: [{ subjectType: 'user', subjectId: BOB, roleId: MEMBER_ROLE, projectRoles: [{ projectId: PROJECT, roleId: ROLE }] }] },
        ORG,
      ),
    expect: [],
  },
  'role.unassigned.v1': {
    event: () =>
      event(
        'role.unassigned',
        { organizationId: ORG, subjectType: 'group', subjectId: GROUP, projectId: PROJECT, roleId: ROLE, roleName: 'Project Reader' },
        ORG,
      ),
    expect: [{ organizationId: ORG, resource: 'Project', operation: 'Modified', resourceId: PROJECT, resourceName: 'Apollo' }],
  },
};

/** Directory where bob belongs to ORG and ORG2, and the group, project and names are known. */
function directory(): Map<string, DirectoryRecord> {
  const map = new Map<string, DirectoryRecord>();
  applyToMap(map, [
    { op: 'name', id: ALICE, kind: 'user', name: 'alice' },
    { op: 'name', id: BOB, kind: 'user', name: 'bob' },
    { op: 'join', userId: BOB, organizationId: ORG },
    { op: 'join', userId: BOB, organizationId: ORG2 },
    { op: 'name', id: GROUP, kind: 'group', name: 'Ops' },
    { op: 'name', id: PROJECT, kind: 'project', name: 'Apollo' },
  ]);
  return map;
}

describe('audit entry mapper', () => {
  it('has a mapping for every event type of EVENT_CATALOGUE, and an example here for each', () => {
    const types = [...new Set(EVENT_CATALOGUE.map(fullEventName))].sort();
    expect(Object.keys(DESCRIBERS).sort()).toEqual(types);
    expect(Object.keys(EXAMPLES).sort()).toEqual(types);
  });

  it.each(Object.keys(EXAMPLES))('%s gives the expected entries', (type) => {
    const { event: make, expect: expected } = EXAMPLES[type];
    const e = make();
    expect(validateEvent(e)).toEqual([]);
    const { entries } = projectEvent(e, directory(), 42);
    expect(entries).toEqual(expected.map((x) => expect.objectContaining(x)));
    for (const entry of entries) {
      expect(entry).toMatchObject({
        eventId: e.id,
        timestamp: e.occurredAt,
        actor: { id: ALICE, username: 'alice' },
        medium: 'api',
        ip: '10.0.0.7',
        requestId: 'req-1',
        sequence: 42,
      });
      expect(entry.description.length).toBeGreaterThan(5);
    }
  });

  it("authorization's legacy role.assigned / role.unassigned (old histories) give the same entries as membership's", () => {
    for (const type of ['role.assigned.v1', 'role.unassigned.v1']) {
      const current = EXAMPLES[type].event();
      const legacy = { ...current, service: 'authorization', streamId: `access-${ORG}` } as CatalogueEvent; // checked just below
      expect(current.service).toBe('membership');
      expect(validateEvent(legacy)).toEqual([]);
      expect(projectEvent(legacy, directory(), 42).entries).toEqual(projectEvent(current, directory(), 42).entries);
    }
  });

  it('gives deterministic ids from (event, organization, index): the same event twice gives the same entries', () => {
    const e = EXAMPLES['user.api-token-reset.v1'].event();
    const first = projectEvent(e, directory(), 7).entries;
    const again = projectEvent(e, directory(), 7).entries;
    expect(again).toEqual(first);
    expect(first.map((x) => x.id)).toEqual([entryId(e.id, ORG, 0), entryId(e.id, ORG2, 0)]);
    expect(new Set(first.map((x) => x.id)).size).toBe(2);
  });

  it('fans user events out to the organizations the user belongs to at that moment, and to none (null) without any', () => {
    const map = directory();
    const token = EXAMPLES['user.api-token-reset.v1'].event();
    const removed = event('organization.member-removed', { organizationId: ORG2, userId: BOB, username: 'bob', groupIds: [] }, ORG2);
    applyToMap(map, projectEvent(removed, map, 1).updates);
    expect(projectEvent(token, map, 2).entries.map((x) => x.organizationId)).toEqual([ORG]);
    applyToMap(map, [{ op: 'leave', userId: BOB, organizationId: ORG }]);
    expect(projectEvent(token, map, 3).entries.map((x) => x.organizationId)).toEqual([null]);
  });

  it('captures the username at the time of the event: later renames do not change earlier entries', () => {
    const map = directory();
    const before = projectEvent(EXAMPLES['user.email-changed.v1'].event(), map, 1).entries[0];
    const rename = event('user.username-changed', { userId: BOB, username: 'robert', previousUsername: 'bob' });
    applyToMap(map, projectEvent(rename, map, 2).updates);
    const after = projectEvent(EXAMPLES['user.email-changed.v1'].event(), map, 3).entries[0];
    expect([before.resourceName, after.resourceName]).toEqual(['bob', 'robert']);
  });

  it('falls back to the username on the event metadata for an actor it does not know', () => {
    const { entries } = projectEvent(EXAMPLES['group.deleted.v1'].event(), new Map(), 1);
    expect(entries[0].actor).toEqual({ id: ALICE, username: 'alice-at-request' });
  });

  it('records one entry per account created by an organization, not a second one for its membership', () => {
    const map = new Map<string, DirectoryRecord>();
    const entries: StoredEntry[] = [];
    for (const [i, name] of ['u1', 'u2', 'u3'].entries()) {
      const userId = `0000000${i}-0000-4000-8000-000000000000`;
      for (const e of [
        event('user.created', {
          userId,
          username: name,
          email: `${name}@x.io`,
          name,
          createdBy: 'organization',
          managedByOrganizationId: ORG,
          temporaryPassword: true,
        }),
        event('organization.member-added', { organizationId: ORG, userId, username: name, roleId: MEMBER_ROLE, via: 'account' }, ORG),
      ]) {
        const r = projectEvent(e, map, i);
        applyToMap(map, r.updates);
        entries.push(...r.entries);
      }
    }
    expect(entries.map((e) => [e.resource, e.operation, e.resourceName])).toEqual([
      ['User', 'Added', 'u1'],
      ['User', 'Added', 'u2'],
      ['User', 'Added', 'u3'],
    ]);
    // an existing account added by the same request is a membership
    const existing = event('organization.member-added', { organizationId: ORG, userId: ALICE, username: 'alice', roleId: MEMBER_ROLE, via: 'account' }, ORG);
    expect(projectEvent(existing, map, 9).entries.map((e) => [e.resource, e.operation])).toEqual([['Member', 'Added']]);
  });

  it('organization creation is one entry: the creator joining is part of it', () => {
    const map = new Map<string, DirectoryRecord>();
    const created = EXAMPLES['organization.created.v1'].event();
    const r = projectEvent(created, map, 1);
    applyToMap(map, r.updates);
    const joined = event('organization.member-added', { organizationId: ORG2, userId: ALICE, username: 'alice', roleId: MEMBER_ROLE, via: 'creator' }, ORG2);
    expect([...r.entries, ...projectEvent(joined, map, 2).entries]).toHaveLength(1);
    expect(map.get(ALICE)?.orgs).toEqual([ORG2]);
  });

  it('takes the user an unauthenticated request acted on (a password change at login) as the actor', () => {
    const e = event('user.password-set', { userId: BOB, temporary: false, reason: 'first-login', organizationId: null });
    const anonymous = { ...e, metadata: { ...e.metadata, actor: { id: 'anonymous' } } };
    expect(projectEvent(anonymous, directory(), 1).entries.map((x) => [x.organizationId, x.actor])).toEqual([
      [ORG, { id: BOB, username: 'bob' }],
      [ORG2, { id: BOB, username: 'bob' }],
    ]);
  });

  it('refuses an event type it has no mapping for (the projection dead-letters it)', () => {
    const e = { ...EXAMPLES['group.deleted.v1'].event(), type: 'group.exploded' } as unknown as CatalogueEvent; // not in the catalogue: the consumer would refuse it first
    expect(() => projectEvent(e, new Map(), 1)).toThrow(UnmappableEvent);
  });

  it('orders entries by time, then stream sequence, then index (sortKey)', () => {
    const e = EXAMPLES['user.api-token-reset.v1'].event();
    const keys = projectEvent(e, directory(), 123).entries.map((x) => x.sortKey);
    expect(keys).toEqual([`${e.occurredAt}|000000000123|0`, `${e.occurredAt}|000000000123|1`]);
  });

  it('never copies anything secret-looking into an entry', () => {
    for (const { event: make } of Object.values(EXAMPLES)) {
      const text = JSON.stringify(projectEvent(make(), directory(), 1).entries);
      expect(text).not.toMatch(/password"\s*:\s*"|hash|secret|ppt_/i);
      expect(text).not.toContain(TOKEN_ID);
    }
  });

  it('lists the ids an event refers to (actor and uuids of its data)', () => {
    expect(referencedIds(EXAMPLES['role.unassigned.v1'].event()).sort()).toEqual([ALICE, GROUP, ORG, PROJECT, ROLE].sort());
  });
});
