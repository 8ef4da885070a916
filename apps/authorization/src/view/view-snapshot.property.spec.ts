import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { BUILT_IN_ROLES, PERMISSIONS, builtInRoleId, catalogueEvent, type CatalogueEvent } from '@app/contracts';
import { orgHistory } from '@app/testing';
import { AccessView } from './access-view';
import { decodeSnapshot, encodeSnapshot } from './view-snapshot';

/**
 * A view started from a snapshot answers exactly as one that replayed everything: for random histories of
 * two organizations (plus renames and events of no interest to the view) and a random cut point k,
 * view(replay all) = view(restore(decode(encode(snapshot(replay first k)))) + replay the rest), compared by
 * their snapshots and by every check (user × permission × project), the owners and the roles in use.
 */
const uuid = (kind: number, i: number) => `00000000-0000-4000-8${kind}00-${String(i).padStart(12, '0')}`;
const ALL_PERMS = PERMISSIONS.map((p) => p.name);
const USERS = Array.from({ length: 8 }, (_, i) => uuid(1, i));
const GROUPS = Array.from({ length: 4 }, (_, i) => uuid(2, i));
const PROJECTS = Array.from({ length: 4 }, (_, i) => uuid(3, i));
const ROLES = Array.from({ length: 4 }, (_, i) => uuid(4, i));
const ORGS = [uuid(9, 1), uuid(9, 2)];

type History = ReturnType<typeof orgHistory>;
const roleIn = (h: History, r: number) => (r < ROLES.length ? ROLES[r] : h.role(BUILT_IN_ROLES[r - ROLES.length].key));
const perms = (scope: 'organization' | 'project', ns: number[]) => ns.map((n) => PERMISSIONS[n].name).filter((p) => p.startsWith(scope));
const scopeOf = (r: number) => (r % 2 ? 'project' : 'organization');

const nat = (n: number) => fc.nat(n - 1);
/** one step of one organization; any order of steps is allowed (the index ignores what does not apply) */
const step = fc.oneof(
  fc.record({ k: fc.constant('member-added' as const), user: nat(8), role: nat(10) }),
  fc.record({ k: fc.constant('member-removed' as const), user: nat(8) }),
  fc.record({ k: fc.constant('group-created' as const), group: nat(4), members: fc.subarray([0, 1, 2, 3, 4, 5, 6, 7]) }),
  fc.record({ k: fc.constant('group-member-added' as const), group: nat(4), user: nat(8) }),
  fc.record({ k: fc.constant('group-member-removed' as const), group: nat(4), user: nat(8) }),
  fc.record({ k: fc.constant('group-deleted' as const), group: nat(4) }),
  fc.record({ k: fc.constant('project-created' as const), project: nat(4), owner: nat(8) }),
  fc.record({ k: fc.constant('project-deleted' as const), project: nat(4) }),
  fc.record({ k: fc.constant('role-created' as const), role: nat(4), perms: fc.array(nat(69), { maxLength: 15 }) }),
  fc.record({ k: fc.constant('role-changed' as const), role: nat(4), perms: fc.array(nat(69), { maxLength: 15 }) }),
  fc.record({ k: fc.constant('role-deleted' as const), role: nat(4) }),
  fc.record({ k: fc.constant('assigned' as const), group: fc.boolean(), subject: nat(8), role: nat(10), project: fc.option(nat(4), { nil: null }) }),
  fc.record({ k: fc.constant('unassigned' as const), group: fc.boolean(), subject: nat(8), project: nat(4) }),
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('legacy-assigned' as const),
      group: fc.boolean(),
      subject: nat(8),
      role: nat(10),
      project: fc.option(nat(4), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('imported' as const), user: nat(8), role: nat(10), project: nat(4) }) },
  fc.record({ k: fc.constant('group-details-changed' as const), group: nat(4), description: fc.constantFrom('', 'on call', 'ops') }),
  fc.record({ k: fc.constant('renamed' as const), user: nat(8), name: fc.constantFrom('ann', 'bob', 'cy') }),
  fc.record({ k: fc.constant('other' as const) }),
);

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** The stream: both organizations' events interleaved, a rename from identity, `undefined` for events of no interest. */
function stream(steps: Array<{ org: number; s: Step }>): Array<CatalogueEvent | undefined> {
  const histories = ORGS.map((id) => orgHistory(id));
  histories.forEach((h, i) => h.created(USERS[i], 'first'));
  const out: Array<CatalogueEvent | undefined> = histories.flatMap((h) => [...h.events]);
  for (const { org, s } of steps) {
    const h = histories[org];
    const before = h.events.length;
    const extra = apply(h, s);
    out.push(...h.events.slice(before), ...extra);
  }
  return out;
}

function apply(h: History, s: Step): Array<CatalogueEvent | undefined> {
  switch (s.k) {
    case 'member-added':
      h.memberAdded(USERS[s.user], roleIn(h, s.role));
      break;
    case 'member-removed':
      h.memberRemoved(USERS[s.user], GROUPS);
      break;
    case 'group-created':
      h.groupCreated(
        GROUPS[s.group],
        s.members.map((m) => USERS[m]),
      );
      break;
    case 'group-member-added':
      h.groupMemberAdded(GROUPS[s.group], USERS[s.user]);
      break;
    case 'group-member-removed':
      h.groupMemberRemoved(GROUPS[s.group], USERS[s.user]);
      break;
    case 'group-deleted':
      h.groupDeleted(GROUPS[s.group]);
      break;
    case 'project-created':
      h.projectCreated(PROJECTS[s.project], USERS[s.owner]);
      break;
    case 'project-deleted':
      h.projectDeleted(PROJECTS[s.project]);
      break;
    case 'role-created':
      h.roleCreated(ROLES[s.role], scopeOf(s.role), perms(scopeOf(s.role), s.perms));
      break;
    case 'role-changed':
      h.roleChanged(ROLES[s.role], scopeOf(s.role), perms(scopeOf(s.role), s.perms), `renamed ${s.perms.length}`);
      break;
    case 'role-deleted':
      h.roleDeleted(ROLES[s.role], scopeOf(s.role));
      break;
    case 'assigned':
      h.assigned(
        s.group ? 'group' : 'user',
        s.group ? GROUPS[s.subject % GROUPS.length] : USERS[s.subject],
        roleIn(h, s.role),
        s.project === null ? null : PROJECTS[s.project],
      );
      break;
    case 'legacy-assigned':
      h.legacyAssigned(
        s.group ? 'group' : 'user',
        s.group ? GROUPS[s.subject % GROUPS.length] : USERS[s.subject],
        roleIn(h, s.role),
        s.project === null ? null : PROJECTS[s.project],
      );
      break;
    case 'imported':
      h.bindingsImported([
        {
          subjectType: 'user',
          subjectId: USERS[s.user],
          roleId: roleIn(h, s.role),
          projectRoles: [{ projectId: PROJECTS[s.project], roleId: roleIn(h, s.role) }],
        },
      ]);
      break;
    case 'group-details-changed':
      h.groupDetailsChanged(GROUPS[s.group], `g${s.group}`, s.description);
      break;
    case 'unassigned':
      h.unassigned(s.group ? 'group' : 'user', s.group ? GROUPS[s.subject % GROUPS.length] : USERS[s.subject], PROJECTS[s.project], ROLES[0]);
      break;
    case 'renamed':
      return [
        catalogueEvent({
          ...h.events[0],
          service: 'identity',
          type: 'user.username-changed',
          organizationId: undefined,
          data: { userId: USERS[s.user], username: s.name, previousUsername: 'previous' },
        }),
      ];
    case 'other':
      return [undefined];
  }
  return [];
}

function answers(view: AccessView): unknown[] {
  const out: unknown[] = [];
  for (const orgId of ORGS) {
    const org = view.find(orgId);
    if (!org) {
      out.push(null);
      continue;
    }
    for (const u of USERS) for (const p of [null, ...PROJECTS]) out.push(org.check(u, p, ALL_PERMS), org.effectivePermissions(u, p));
    out.push(
      org.owners(),
      [...org.roles.keys()].map((r) => org.roleInUse(r)),
      builtInRoleId(orgId, 'owner'),
    );
  }
  return out;
}

describe('a view started from a snapshot equals a fully replayed one (fast-check)', () => {
  it('for random histories and a random cut point: the same snapshot and the same answers to every check', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ org: nat(2), s: step }), { maxLength: 80 }), fc.double({ min: 0, max: 1, noNaN: true }), async (steps, cut) => {
        const events = stream(steps);
        const k = Math.floor(cut * events.length);
        const full = new AccessView();
        events.forEach((e, i) => full.ingest(e, i + 1));

        const first = new AccessView();
        events.slice(0, k).forEach((e, i) => first.ingest(e, i + 1));
        const restored = new AccessView();
        restored.restore(await decodeSnapshot(await encodeSnapshot(first.snapshot())));
        expect(restored.sequence).toBe(k);
        events.slice(k).forEach((e, i) => restored.ingest(e, k + i + 1));

        expect(restored.consumed).toBe(events.length - k);
        expect(JSON.stringify(restored.snapshot())).toBe(JSON.stringify(full.snapshot()));
        expect(answers(restored)).toEqual(answers(full));
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('a snapshot of an unknown format, or a truncated one, is not decoded', async () => {
    const view = new AccessView();
    orgHistory(ORGS[0])
      .created(USERS[0])
      .events.forEach((e, i) => view.ingest(e, i + 1));
    const good = await encodeSnapshot(view.snapshot());
    expect((await decodeSnapshot(good)).orgs).toHaveLength(1);
    // format 1 is the snapshot of the view before bindings moved to membership
    await expect(decodeSnapshot(gzipSync(Buffer.from(JSON.stringify({ format: 1, sequence: 2, orgs: 0 }))))).rejects.toThrow(/unknown snapshot format 1/);
    await expect(decodeSnapshot(gzipSync(Buffer.from(JSON.stringify({ format: 3, sequence: 2, orgs: 0 }))))).rejects.toThrow(/unknown snapshot format 3/);
    await expect(decodeSnapshot(gzipSync(Buffer.from(JSON.stringify({ format: 2, sequence: 2, orgs: 3 }))))).rejects.toThrow(/header says 3/);
    await expect(decodeSnapshot(good.subarray(0, good.length - 4))).rejects.toThrow();
  });
});
