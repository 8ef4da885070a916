import fc from 'fast-check';
import { actorHolds, CHANGE_OWNER, OrgAccess, permissionIndex, type RoleDefinition } from '../libs/access-model/src';
import { BUILT_IN_ROLES, catalogueEvent, DomainError, PERMISSIONS, builtInRoleId, type CommandMeta, type NewEvent } from '../libs/contracts/src';
import { decideAccess, type AccessCommand } from '../apps/authorization/src/access/access.decider';
import { decideOrganization, weighsRoles, type OrganizationCommand } from '../apps/membership/src/organization/organization.decider';
import { evolveOrganization, initialOrganizationState, type OrganizationState } from '../apps/membership/src/organization/organization.state';

/**
 * Model-based test of the escalation rules: random sequences of operations by random actors, run through the
 * deciders the services run, with the inputs the services give them: membership's organization decider (every
 * binding, group change, invitation, removal and password reset) on its stream's state with the custom roles
 * authorization's write side folds from its stream (`qry.authorization.roles`), and authorization's access
 * decider (role definitions) on its view. The events are applied to the three states as the services apply
 * them: membership's stream state, the access stream's fold, and the view of both. After every step that
 * was allowed:
 * - nobody holds a permission (in the organization, or in a project) they did not hold before, unless the
 *   step's actor held it before (whatever the way: binding, groups, role edits, invitations);
 * - a password reset was done by someone holding every permission of the person;
 * - a role's permissions were changed only by someone holding all of them, before and after;
 * - the Owner role was given or taken away only by a holder of organization.change_owner, and at least one
 *   user keeps the Owner role directly;
 * and an Owner, who holds everything, is never refused by these rules; and the decider's state and the view
 * hold the same bindings (one fold).
 * The route permission guard of the gateway is deliberately not modelled: the rules must hold without it.
 */

const uuid = (kind: number, i: number) => `00000000-0000-4000-8${kind}00-${String(i).padStart(12, '0')}`;
const ORG = uuid(9, 1);
const USERS = Array.from({ length: 7 }, (_, i) => uuid(1, i));
const GROUPS = Array.from({ length: 3 }, (_, i) => uuid(2, i));
const PROJECTS = Array.from({ length: 2 }, (_, i) => uuid(3, i));
const CUSTOM = Array.from({ length: 4 }, (_, i) => uuid(4, i));
const ORG_PERMS = PERMISSIONS.filter((p) => p.scope === 'organization').map((p) => p.name);
const PROJECT_PERMS = PERMISSIONS.filter((p) => p.scope === 'project').map((p) => p.name);
const BUILT_IN = BUILT_IN_ROLES.map((r) => builtInRoleId(ORG, r.key));
const ROLES = [...BUILT_IN, ...CUSTOM];
const customScope = (roleId: string) => (CUSTOM.indexOf(roleId) < 2 ? 'organization' : 'project');

type Op =
  | { k: 'bind'; actor: number; group: boolean; subject: number; role: number; project: number | null }
  | { k: 'unbind'; actor: number; group: boolean; subject: number; project: number }
  | { k: 'create-group'; actor: number; group: number; members: number[] }
  | { k: 'update-group'; actor: number; group: number; add: number[]; remove: number[] }
  | { k: 'delete-group'; actor: number; group: number }
  | { k: 'create-role'; actor: number; role: number; perms: number[] }
  | { k: 'change-role'; actor: number; role: number; perms: number[] }
  | { k: 'delete-role'; actor: number; role: number }
  | { k: 'reset-password'; actor: number; target: number }
  | { k: 'invite'; actor: number; target: number; role: number | null }
  | { k: 'remove'; actor: number; target: number };

const actor = fc.nat(USERS.length - 1);
const user = fc.nat(USERS.length - 1);
const users = fc.uniqueArray(user, { maxLength: 4 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('bind' as const),
      actor,
      group: fc.boolean(),
      subject: user,
      role: fc.nat(ROLES.length - 1),
      project: fc.option(fc.nat(PROJECTS.length - 1), { nil: null }),
    }),
  },
  fc.record({ k: fc.constant('unbind' as const), actor, group: fc.boolean(), subject: user, project: fc.nat(PROJECTS.length - 1) }),
  fc.record({ k: fc.constant('create-group' as const), actor, group: fc.nat(GROUPS.length - 1), members: users }),
  { weight: 4, arbitrary: fc.record({ k: fc.constant('update-group' as const), actor, group: fc.nat(GROUPS.length - 1), add: users, remove: users }) },
  fc.record({ k: fc.constant('delete-group' as const), actor, group: fc.nat(GROUPS.length - 1) }),
  fc.record({
    k: fc.constant('create-role' as const),
    actor,
    role: fc.nat(CUSTOM.length - 1),
    perms: fc.uniqueArray(fc.nat(PERMISSIONS.length - 1), { maxLength: 12 }),
  }),
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('change-role' as const),
      actor,
      role: fc.nat(CUSTOM.length - 1),
      perms: fc.uniqueArray(fc.nat(PERMISSIONS.length - 1), { maxLength: 12 }),
    }),
  },
  fc.record({ k: fc.constant('delete-role' as const), actor, role: fc.nat(CUSTOM.length - 1) }),
  { weight: 2, arbitrary: fc.record({ k: fc.constant('reset-password' as const), actor, target: user }) },
  fc.record({ k: fc.constant('invite' as const), actor, target: user, role: fc.option(fc.nat(ROLES.length - 1), { nil: null }) }),
  fc.record({ k: fc.constant('remove' as const), actor, target: user }),
);

/** The services' states of the organization, fed with the events the deciders return. */
class World {
  /** authorization's view: every event (what checks answer from) */
  readonly index = new OrgAccess(ORG);
  /** authorization's write side: its own stream (the custom roles membership is given) */
  readonly access = new OrgAccess(ORG);
  /** membership's organization stream */
  state: OrganizationState = initialOrganizationState;
  private versions = { membership: 0, authorization: 0 };

  apply(service: 'membership' | 'authorization', events: NewEvent[], meta: CommandMeta): void {
    for (const e of events) {
      const version = ++this.versions[service];
      const event = catalogueEvent({
        id: `00000000-0000-4000-8000-${String(service === 'authorization' ? 1 : 2)}${String(version).padStart(11, '0')}`,
        type: e.type,
        version: e.version,
        streamId: service === 'authorization' ? `access-${ORG}` : `organization-${ORG}`,
        streamVersion: version,
        service,
        occurredAt: meta.timestamp,
        organizationId: ORG,
        data: e.data,
        metadata: { actor: meta.actor, correlationId: 'c', causationId: 'c', medium: 'api' },
      });
      if (service === 'membership') this.state = evolveOrganization(this.state, event);
      else this.access.apply(event);
      this.index.apply(event);
    }
  }

  customRoles(): RoleDefinition[] {
    return [...this.access.roles.values()].filter((r) => !r.builtIn);
  }

  /** membership: the organization decider, with authorization's custom roles when it weighs roles */
  organization(command: OrganizationCommand, meta: CommandMeta): void {
    this.apply('membership', decideOrganization(command, this.state, meta, weighsRoles(command) ? this.customRoles() : undefined), meta);
  }

  /** authorization: the access decider on the view */
  roles(command: AccessCommand, meta: CommandMeta): void {
    this.apply('authorization', decideAccess(command, this.index, meta), meta);
  }
}

let commands = 0;
const metaOf = (actorId: string): CommandMeta => ({
  commandId: `c${++commands}`,
  actor: { id: actorId },
  correlationId: 'c',
  medium: 'api',
  timestamp: '2026-01-01T00:00:00.000Z',
});

/** Every permission each member holds: `org:<perm>` and `<project>:<perm>`. */
function holdings(index: OrgAccess): Map<string, Set<string>> {
  const all = new Map<string, Set<string>>();
  for (const u of index.users.keys()) {
    const held = new Set<string>();
    for (const p of ORG_PERMS) if (index.has(u, permissionIndex(p), null)) held.add(`org:${p}`);
    for (const project of index.projects.keys()) for (const p of PROJECT_PERMS) if (index.has(u, permissionIndex(p), project)) held.add(`${project}:${p}`);
    all.set(u, held);
  }
  return all;
}

function run(world: World, op: Op): void {
  const actorId = USERS[op.actor];
  const meta = metaOf(actorId);
  const subjectOf = (group: boolean, i: number) =>
    group ? { subjectType: 'group' as const, subjectId: GROUPS[i % GROUPS.length] } : { subjectType: 'user' as const, subjectId: USERS[i] };
  switch (op.k) {
    case 'bind':
      return world.organization(
        {
          kind: 'AssignRole',
          organizationId: ORG,
          ...subjectOf(op.group, op.subject),
          roleId: ROLES[op.role],
          projectId: op.project === null ? null : PROJECTS[op.project],
        },
        meta,
      );
    case 'unbind': {
      const { subjectId } = subjectOf(op.group, op.subject);
      return world.organization({ kind: 'UnassignRole', organizationId: ORG, subjectId, projectId: PROJECTS[op.project] }, meta);
    }
    case 'create-group':
      return world.organization(
        {
          kind: 'CreateGroup',
          organizationId: ORG,
          groupId: GROUPS[op.group],
          name: `g${op.group}`,
          description: '',
          memberIds: op.members.map((i) => USERS[i]),
        },
        meta,
      );
    case 'update-group':
      return world.organization(
        {
          kind: 'UpdateGroup',
          organizationId: ORG,
          groupId: GROUPS[op.group],
          addMemberIds: op.add.map((i) => USERS[i]),
          removeMemberIds: op.remove.map((i) => USERS[i]),
        },
        meta,
      );
    case 'delete-group':
      return world.organization({ kind: 'DeleteGroup', organizationId: ORG, groupId: GROUPS[op.group] }, meta);
    case 'create-role': {
      const roleId = CUSTOM[op.role];
      const scope = customScope(roleId);
      if (world.index.roles.has(roleId)) return; // the service gives every new role a fresh id
      const permissions = op.perms.map((i) => PERMISSIONS[i].name).filter((p) => p.startsWith(scope));
      return world.roles({ kind: 'CreateRole', organizationId: ORG, roleId, name: `r${op.role}`, description: '', scope, permissions }, meta);
    }
    case 'change-role': {
      const roleId = CUSTOM[op.role];
      const permissions = op.perms.map((i) => PERMISSIONS[i].name).filter((p) => p.startsWith(customScope(roleId)));
      return world.roles({ kind: 'ChangeRole', organizationId: ORG, roleId, permissions }, meta);
    }
    case 'delete-role':
      return world.roles({ kind: 'DeleteRole', organizationId: ORG, roleId: CUSTOM[op.role] }, meta);
    case 'reset-password':
      // membership decides whether the actor may take the account over; identity then resets the password
      return world.organization({ kind: 'ResetMemberPassword', organizationId: ORG, userId: USERS[op.target] }, meta);
    case 'invite':
      return world.organization(
        {
          kind: 'AddMembers',
          organizationId: ORG,
          users: [{ userId: USERS[op.target], username: `u${op.target}` }],
          roleId: op.role === null ? undefined : ROLES[op.role],
          via: 'invite',
        },
        meta,
      );
    case 'remove':
      return world.organization({ kind: 'RemoveMember', organizationId: ORG, userId: USERS[op.target] }, meta);
  }
}

/** The organization: USERS[0] creates it (Owner); the others join as Members; one project each for USERS[0] and USERS[1]. */
function startWorld(initialRoles: number[]): World {
  const world = new World();
  world.organization(
    { kind: 'CreateOrganization', organizationId: ORG, name: 'Org', slug: 'org', ownerId: USERS[0], ownerUsername: 'u0', via: 'creator' },
    metaOf(USERS[0]),
  );
  world.organization(
    { kind: 'AddMembers', organizationId: ORG, users: USERS.slice(1).map((u, i) => ({ userId: u, username: `u${i + 1}` })), via: 'invite' },
    metaOf(USERS[0]),
  );
  for (const [i, projectId] of PROJECTS.entries())
    world.organization({ kind: 'CreateProject', organizationId: ORG, projectId, name: `p${i}`, ownerId: USERS[i] }, metaOf(USERS[i]));
  // a few starting roles given by the Owner: Owner, Admin or Member (0, 1, 2)
  for (const [i, r] of initialRoles.entries())
    if (r !== 2)
      world.organization(
        { kind: 'AssignRole', organizationId: ORG, subjectType: 'user', subjectId: USERS[i + 1], projectId: null, roleId: BUILT_IN[r] },
        metaOf(USERS[0]),
      );
  // two empty groups holding Owner and Admin, so that the sequences often reach them
  for (const [i, r] of [0, 1].entries()) {
    world.organization({ kind: 'CreateGroup', organizationId: ORG, groupId: GROUPS[i], name: `g${i}`, description: '', memberIds: [] }, metaOf(USERS[0]));
    world.organization(
      { kind: 'AssignRole', organizationId: ORG, subjectType: 'group', subjectId: GROUPS[i], projectId: null, roleId: BUILT_IN[r] },
      metaOf(USERS[0]),
    );
  }
  return world;
}

function checkStep(world: World, op: Op, before: Map<string, Set<string>>, roleBefore: string[] | undefined, ownersBefore: string[]): void {
  const actorId = USERS[op.actor];
  const actorHeld = before.get(actorId) ?? new Set<string>();
  const after = holdings(world.index);
  for (const [u, held] of after)
    for (const p of held) {
      const [where] = p.split(':');
      if (where !== 'org' && !world.index.projects.has(where)) continue;
      if (!before.get(u)?.has(p) && !actorHeld.has(p))
        throw new Error(`${op.k} by user ${op.actor} gave user ${USERS.indexOf(u)} ${p}, which the actor did not hold`);
    }
  if (op.k === 'reset-password') {
    const target = before.get(USERS[op.target]) ?? new Set<string>();
    const beyond = [...target].filter((p) => !actorHeld.has(p));
    if (beyond.length) throw new Error(`user ${op.actor} reset the password of user ${op.target}, who holds ${beyond.join(', ')} beyond them`);
  }
  if (op.k === 'change-role' && roleBefore) {
    const now = world.index.roles.get(CUSTOM[op.role])!.permissions;
    if (now.join() !== roleBefore.join())
      for (const p of new Set([...roleBefore, ...now]))
        if (!(p.startsWith('organization') ? actorHeld.has(`org:${p}`) : PROJECTS.every((pr) => actorHeld.has(`${pr}:${p}`))))
          throw new Error(`user ${op.actor} changed role ${op.role} (${p}) without holding it`);
  }
  const ownersAfter = world.index.owners();
  const changedOwners = ownersBefore.filter((o) => !ownersAfter.includes(o)).length + ownersAfter.filter((o) => !ownersBefore.includes(o)).length;
  if (changedOwners && !actorHeld.has(`org:${CHANGE_OWNER}`)) throw new Error(`${op.k} by user ${op.actor} changed the Owners without ${CHANGE_OWNER}`);
  const owner = builtInRoleId(ORG, 'owner');
  if (![...world.index.users.values()].some((u) => u.orgRole === owner)) throw new Error('no user holds the Owner role directly');
  if (JSON.stringify(world.state.bindings()) !== JSON.stringify(world.index.bindings()))
    throw new Error(`${op.k}: the decider's state and the view disagree on the bindings`);
}

describe('escalation rules, model-based (fast-check): random operations by random actors', () => {
  it('never give anyone a permission the acting user did not hold, and keep the Owner rules', () => {
    let allowed = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(fc.nat(2), { minLength: 3, maxLength: 3 }), fc.array(opArb, { minLength: 5, maxLength: 30 }), (initialRoles, ops) => {
        const world = startWorld(initialRoles);
        for (const op of ops) {
          const before = holdings(world.index);
          const roleBefore = op.k === 'change-role' ? world.index.roles.get(CUSTOM[op.role])?.permissions.slice() : undefined;
          const ownersBefore = world.index.owners();
          try {
            run(world, op);
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
            // and the rules never stop an Owner, who holds everything
            const ownerActs = world.index.users.get(USERS[op.actor])?.orgRole === builtInRoleId(ORG, 'owner');
            if (ownerActs && ['FORBIDDEN', 'PRIVILEGE_ESCALATION'].includes(err.code)) throw new Error(`${op.k} by an Owner refused: ${err.message}`);
            refused++;
            continue;
          }
          allowed++;
          checkStep(world, op, before, roleBefore, ownersBefore);
        }
      }),
      { numRuns: 2000 },
    );
    // the generator reaches both sides of the rules
    expect(allowed).toBeGreaterThan(5000);
    expect(refused).toBeGreaterThan(5000);
  });

  it('the holes found in review are closed (Admin into an Owner group, Admin resets an Owner password, trimming a role one does not fully hold)', () => {
    const world = startWorld([1, 2, 2]); // USERS[1] Admin
    const owner = metaOf(USERS[0]);
    const admin = metaOf(USERS[1]);
    world.organization({ kind: 'CreateGroup', organizationId: ORG, groupId: GROUPS[0], name: 'owners', description: '', memberIds: [] }, owner);
    world.organization({ kind: 'AssignRole', organizationId: ORG, subjectType: 'group', subjectId: GROUPS[0], projectId: null, roleId: BUILT_IN[0] }, owner);
    expect(() => world.organization({ kind: 'UpdateGroup', organizationId: ORG, groupId: GROUPS[0], addMemberIds: [USERS[1]] }, admin)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    expect(() => world.organization({ kind: 'ResetMemberPassword', organizationId: ORG, userId: USERS[0] }, admin)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    world.roles(
      {
        kind: 'CreateRole',
        organizationId: ORG,
        roleId: CUSTOM[0],
        name: 'deleter',
        description: '',
        scope: 'organization',
        permissions: ['organization.delete', 'organization.custom_roles.manage'],
      },
      owner,
    );
    world.roles(
      {
        kind: 'CreateRole',
        organizationId: ORG,
        roleId: CUSTOM[1],
        name: 'manager',
        description: '',
        scope: 'organization',
        permissions: ['organization.custom_roles.manage', 'organization.people.view'],
      },
      owner,
    );
    world.organization({ kind: 'AssignRole', organizationId: ORG, subjectType: 'user', subjectId: USERS[2], projectId: null, roleId: CUSTOM[1] }, owner);
    // USERS[2] may manage custom roles but cannot take organization.delete away from "deleter"
    expect(() =>
      world.roles({ kind: 'ChangeRole', organizationId: ORG, roleId: CUSTOM[0], permissions: ['organization.custom_roles.manage'] }, metaOf(USERS[2])),
    ).toThrow(expect.objectContaining({ code: 'PRIVILEGE_ESCALATION' }));
    // a group holding a role with organization.delete: a Member cannot be put in it by an Admin
    world.organization({ kind: 'CreateGroup', organizationId: ORG, groupId: GROUPS[1], name: 'deleters', description: '', memberIds: [] }, owner);
    world.organization({ kind: 'AssignRole', organizationId: ORG, subjectType: 'group', subjectId: GROUPS[1], projectId: null, roleId: CUSTOM[0] }, owner);
    expect(() => world.organization({ kind: 'UpdateGroup', organizationId: ORG, groupId: GROUPS[1], addMemberIds: [USERS[3]] }, admin)).toThrow(
      expect.objectContaining({ code: 'PRIVILEGE_ESCALATION' }),
    );
    expect(actorHolds(world.index, USERS[3], 'organization.delete', null)).toBe(false);
  });
});
