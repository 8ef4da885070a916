import { randomUUID } from 'node:crypto';
import { ORGANIZATION_PERMISSIONS, PERMISSIONS, PROJECT_PERMISSIONS } from '@app/contracts';
import { OrgAccess } from './org-access';
import { orgHistory } from '@app/testing';

const held = (index: ReturnType<ReturnType<typeof orgHistory>['index']>, userId: string, projectId?: string) =>
  PERMISSIONS.filter((p) => index.check(userId, projectId ?? null, [p.name]).allowed[p.name]).map((p) => p.name);

/** RBAC.md, copied by hand on purpose: the catalogue in code must match the document. */
const RBAC_MEMBER = [
  'organization.view',
  'organization.contact_support',
  'organization.activity_monitor.view',
  'organization.projects.create',
  'organization.secrets_policy_settings.view',
  'organization.self_hosted_agents.view',
  'organization.self_hosted_agents.manage',
  'organization.groups.view',
  'organization.secrets.view',
  'organization.secrets.manage',
  'organization.notifications.view',
  'organization.notifications.manage',
  'organization.dashboards.view',
  'organization.dashboards.manage',
];
const RBAC_READER = [
  'project.view',
  'project.access.view',
  'project.notifications.view',
  'project.insights.view',
  'project.flaky_tests.view',
  'project.artifacts.view',
  'project.scheduler.view',
  'project.general_settings.view',
  'project.repository_info.view',
  'project.deployment_targets.view',
  'project.pre_flight_checks.view',
];
const sorted = (xs: readonly string[]) => [...xs].sort();

describe('permission catalogue', () => {
  it('has the 38 organization and 31 project permissions of RBAC.md, each with a description, scope = prefix', () => {
    expect(ORGANIZATION_PERMISSIONS).toHaveLength(38);
    expect(PROJECT_PERMISSIONS).toHaveLength(31);
    expect(new Set(PERMISSIONS.map((p) => p.name)).size).toBe(69);
    for (const p of PERMISSIONS) {
      expect(p.name.split('.')[0]).toBe(p.scope);
      expect(p.description.length).toBeGreaterThan(5);
    }
  });
});

describe('OrgAccess: built-in roles exactly as RBAC.md', () => {
  const owner = randomUUID();
  const admin = randomUUID();
  const member = randomUUID();
  const project = randomUUID();
  const other = randomUUID();
  const h = orgHistory().created(owner).memberAdded(admin, 'admin').memberAdded(member, 'member').projectCreated(project, owner).projectCreated(other, member);
  const index = h.index();

  it('Owner: all 38 organization permissions and project Admin (all 31) in every project', () => {
    expect(sorted(held(index, owner))).toEqual(sorted(ORGANIZATION_PERMISSIONS));
    expect(sorted(held(index, owner, other))).toEqual(sorted([...ORGANIZATION_PERMISSIONS, ...PROJECT_PERMISSIONS]));
  });

  it('Admin: all but delete, change_owner, custom_roles.manage, instance_git_integration.manage; project Admin everywhere', () => {
    const lacks = ['organization.delete', 'organization.change_owner', 'organization.custom_roles.manage', 'organization.instance_git_integration.manage'];
    expect(sorted(held(index, admin))).toEqual(sorted(ORGANIZATION_PERMISSIONS.filter((p) => !lacks.includes(p))));
    expect(held(index, admin, project).filter((p) => p.startsWith('project.'))).toEqual([...PROJECT_PERMISSIONS]);
    expect(held(index, admin, other).filter((p) => p.startsWith('project.'))).toEqual([...PROJECT_PERMISSIONS]);
  });

  it('Member: the 14 of RBAC.md; project permissions only where given a role (the creator of a project gets project Admin)', () => {
    expect(sorted(held(index, member))).toEqual(sorted(RBAC_MEMBER));
    expect(held(index, member, project).filter((p) => p.startsWith('project.'))).toEqual([]);
    expect(held(index, member, other).filter((p) => p.startsWith('project.'))).toEqual([...PROJECT_PERMISSIONS]);
  });

  it('project Contributor: all but access.manage and deployment_targets.manage; Reader: the 11 view permissions', () => {
    const c = randomUUID();
    const r = randomUUID();
    const idx = orgHistory(h.organizationId)
      .created(owner)
      .memberAdded(c)
      .memberAdded(r)
      .projectCreated(project, owner)
      .assigned('user', c, h.role('project-contributor'), project)
      .assigned('user', r, h.role('project-reader'), project)
      .index();
    expect(sorted(held(idx, c, project).filter((p) => p.startsWith('project.')))).toEqual(
      sorted(PROJECT_PERMISSIONS.filter((p) => p !== 'project.access.manage' && p !== 'project.deployment_targets.manage')),
    );
    expect(sorted(held(idx, r, project).filter((p) => p.startsWith('project.')))).toEqual(sorted(RBAC_READER));
  });

  it('a non-member is not a member and holds nothing; a project of another organization is not a member either', () => {
    expect(index.check(randomUUID(), null, ['organization.view'])).toEqual({ member: false, allowed: { 'organization.view': false } });
    expect(index.check(owner, randomUUID(), ['project.view'])).toEqual({ member: false, allowed: { 'project.view': false } });
    expect(index.check(owner, null, ['project.view', 'no.such'])).toEqual({ member: true, allowed: { 'project.view': false, 'no.such': false } });
  });
});

describe('OrgAccess: union through groups, bindings following membership events', () => {
  const owner = randomUUID();
  const u = randomUUID();
  const g1 = randomUUID();
  const g2 = randomUUID();
  const p = randomUUID();
  const custom = randomUUID();

  it('a user holds the union of their roles and those of every group they are in, at both scopes', () => {
    const h = orgHistory()
      .created(owner)
      .memberAdded(u)
      .projectCreated(p, owner)
      .roleCreated(custom, 'organization', ['organization.view', 'organization.audit_logs.view'])
      .groupCreated(g1, [u])
      .groupCreated(g2, [u]);
    h.assigned('group', g1, custom).assigned('group', g2, h.role('project-reader'), p);
    const index = h.index();
    expect(index.check(u, null, ['organization.audit_logs.view', 'organization.secrets.manage', 'organization.people.view']).allowed).toEqual({
      'organization.audit_logs.view': true,
      'organization.secrets.manage': true,
      'organization.people.view': false,
    });
    expect(index.check(u, p, ['project.view', 'project.secrets.manage']).allowed).toEqual({ 'project.view': true, 'project.secrets.manage': false });
    expect(index.effectivePermissions(u, p).find((x) => x.name === 'project.view')?.sources).toEqual([
      {
        roleId: orgHistory(h.organizationId).role('project-reader'),
        roleName: 'Reader',
        via: 'group',
        groupId: g2,
        groupName: expect.any(String),
        scope: 'project',
      },
    ]);
  });

  it('a group holding Admin gives its members project Admin in every project (source: organization, via group)', () => {
    const h = orgHistory().created(owner).memberAdded(u).projectCreated(p, owner).groupCreated(g1, [u]);
    h.assigned('group', g1, h.role('admin'));
    const index = h.index();
    expect(index.check(u, p, ['project.access.manage']).allowed['project.access.manage']).toBe(true);
    expect(index.effectivePermissions(u, p).find((x) => x.name === 'project.delete')?.sources).toEqual([
      expect.objectContaining({ roleName: 'Admin', via: 'group', groupId: g1, scope: 'organization' }),
    ]);
  });

  it('leaving a group, a deleted group, removal from the organization and a deleted project take access away', () => {
    const h = orgHistory().created(owner).memberAdded(u).projectCreated(p, owner).groupCreated(g1, [u]).groupCreated(g2, [u]);
    h.assigned('group', g1, h.role('admin')).assigned('group', g2, h.role('project-reader'), p).assigned('user', u, h.role('project-contributor'), p);
    expect(h.index().check(u, null, ['organization.people.manage']).allowed['organization.people.manage']).toBe(true);
    h.groupMemberRemoved(g1, u);
    expect(h.index().check(u, null, ['organization.people.manage']).allowed['organization.people.manage']).toBe(false);
    expect(h.index().check(u, p, ['project.secrets.manage']).allowed['project.secrets.manage']).toBe(true);
    h.unassigned('user', u, p, h.role('project-contributor'));
    expect(h.index().check(u, p, ['project.secrets.manage', 'project.view']).allowed).toEqual({ 'project.secrets.manage': false, 'project.view': true });
    h.groupDeleted(g2);
    expect(h.index().check(u, p, ['project.view']).allowed['project.view']).toBe(false);
    h.groupMemberAdded(g1, u).assigned('user', u, h.role('project-admin'), p);
    h.memberRemoved(u, [g1]);
    const index = h.index();
    expect(index.check(u, null, ['organization.view']).member).toBe(false);
    expect(index.groups.get(g1)!.members.has(u)).toBe(false);
    // joining again starts from nothing but the role given on joining
    h.memberAdded(u, 'member');
    expect(h.index().check(u, p, ['project.view']).allowed['project.view']).toBe(false);
    expect(h.index().users.get(u)!.groups.size).toBe(0);
    h.projectDeleted(p);
    expect(h.index().check(owner, p, ['project.view']).member).toBe(false);
  });

  it('editing a custom role changes its holders at once; deleting it leaves nothing behind', () => {
    const h = orgHistory().created(owner).memberAdded(u).roleCreated(custom, 'organization', ['organization.view', 'organization.okta.view']);
    h.assigned('user', u, custom);
    expect(h.index().check(u, null, ['organization.okta.view', 'organization.secrets.view']).allowed).toEqual({
      'organization.okta.view': true,
      'organization.secrets.view': false,
    });
    h.roleChanged(custom, 'organization', ['organization.view']);
    expect(h.index().check(u, null, ['organization.okta.view']).allowed['organization.okta.view']).toBe(false);
  });

  it('owners: directly or through a group; roleInUse: any binding at any scope', () => {
    const h = orgHistory().created(owner).memberAdded(u).groupCreated(g1, [u]).projectCreated(p, owner).roleCreated(custom, 'project', ['project.view']);
    expect(h.index().owners()).toEqual([owner]);
    expect(h.index().roleInUse(custom)).toBe(false);
    h.assigned('group', g1, h.role('owner')).assigned('group', g1, custom, p);
    expect(h.index().owners()).toEqual([owner, u].sort());
    expect(h.index().roleInUse(custom)).toBe(true);
  });
});

describe('OrgAccess: where bindings come from (membership, legacy authorization, the import) and roles that are gone', () => {
  const owner = randomUUID();
  const u = randomUUID();
  const g = randomUUID();
  const p = randomUUID();
  const p2 = randomUUID();
  const custom = randomUUID();
  const base = () => orgHistory().created(owner).memberAdded(u).groupCreated(g, [u]).projectCreated(p, owner).projectCreated(p2, owner);

  it("membership's role.assigned and authorization's legacy one bind alike (same data)", () => {
    const viaMembership = base();
    viaMembership.assigned('user', u, viaMembership.role('admin')).assigned('group', g, viaMembership.role('project-reader'), p);
    const legacy = orgHistory(viaMembership.organizationId)
      .created(owner)
      .memberAdded(u)
      .groupCreated(g, [u])
      .projectCreated(p, owner)
      .projectCreated(p2, owner);
    legacy.legacyAssigned('user', u, legacy.role('admin')).legacyAssigned('group', g, legacy.role('project-reader'), p);
    expect(legacy.index().bindings()).toEqual(viaMembership.index().bindings());
    expect(viaMembership.index().check(u, null, ['organization.people.manage']).allowed['organization.people.manage']).toBe(true);
  });

  it('organization.bindings-imported restates the listed subjects (organization and project roles replaced); later legacy binding events are ignored, membership ones are not', () => {
    const h = base();
    h.legacyAssigned('user', u, h.role('admin')).legacyAssigned('user', u, h.role('project-reader'), p);
    h.bindingsImported([
      {
        subjectType: 'user',
        subjectId: u,
        roleId: h.role('member'),
        projectRoles: [
          { projectId: p2, roleId: h.role('project-contributor') },
          { projectId: randomUUID(), roleId: h.role('project-admin') },
        ],
      },
    ]);
    const imported = h.index();
    expect(imported.imported).toBe(true);
    expect(imported.users.get(u)).toMatchObject({ orgRole: h.role('member'), projectRoles: new Map([[p2, h.role('project-contributor')]]) });
    expect(imported.groups.get(g)!.orgRole).toBe(h.role('member')); // not listed: kept
    h.legacyAssigned('user', u, h.role('owner')).legacyUnassigned('user', u, p2, h.role('project-contributor'));
    expect(h.index().bindings()).toEqual(imported.bindings());
    h.assigned('user', u, h.role('admin')).unassigned('user', u, p2, h.role('project-contributor'));
    expect(h.index().users.get(u)).toMatchObject({ orgRole: h.role('admin'), projectRoles: new Map() });
  });

  it('an organization binding to a role that no longer exists counts as Member (checks, held roles); a project binding to one grants nothing', () => {
    const h = base().roleCreated(custom, 'organization', ['organization.view', 'organization.okta.view']);
    const projectRole = randomUUID();
    h.roleCreated(projectRole, 'project', ['project.view', 'project.job.stop']);
    h.groupMemberRemoved(g, u).assigned('user', u, custom).assigned('user', u, projectRole, p);
    h.roleDeleted(custom, 'organization').roleDeleted(projectRole, 'project');
    const org = h.index();
    expect(sorted(held(org, u))).toEqual(sorted(RBAC_MEMBER));
    expect(org.heldRoles(u, p).map((r) => r.role.name)).toEqual(['Member']);
    expect(org.check(u, p, ['project.view']).allowed['project.view']).toBe(false);
  });

  it('withCustomRoles: the same people with the given custom roles; the state itself is untouched', () => {
    const h = base().roleCreated(custom, 'organization', ['organization.okta.view']);
    h.assigned('user', u, custom);
    const state = h.index();
    const before = JSON.stringify(state.toSnapshot());
    const other = state.withCustomRoles([{ id: custom, name: 'Okta', description: '', scope: 'organization', permissions: ['organization.okta.manage'] }]);
    expect(other.check(u, null, ['organization.okta.manage', 'organization.okta.view']).allowed).toEqual({
      'organization.okta.manage': true,
      'organization.okta.view': false,
    });
    expect(other.users).toBe(state.users);
    expect(JSON.stringify(state.toSnapshot())).toBe(before);
    expect(state.withCustomRoles([]).check(u, null, ['organization.okta.view', 'organization.secrets.view']).allowed).toEqual({
      'organization.okta.view': false,
      'organization.secrets.view': true,
    });
  });

  it('a snapshot restores the same state (names, descriptions, the import flag, roles, members, bindings, order)', () => {
    const h = base().roleCreated(custom, 'project', ['project.job.stop']);
    h.assigned('group', g, custom, p).bindingsImported([]);
    const org = h.index();
    const restored = OrgAccess.fromSnapshot(JSON.parse(JSON.stringify(org.toSnapshot())));
    expect(restored.toSnapshot()).toEqual(org.toSnapshot());
    expect(restored.toSnapshot()).toMatchObject({ name: 'Org', slug: 'org', creatorId: owner, imported: true });
    const all = PERMISSIONS.map((x) => x.name);
    for (const user of [owner, u]) for (const project of [null, p, p2]) expect(restored.check(user, project, all)).toEqual(org.check(user, project, all));
  });

  it('folding the same events again from a fresh state gives the same state (one fold, for the view and the decider)', () => {
    const h = base();
    h.assigned('user', u, h.role('admin')).groupDeleted(g).memberRemoved(u);
    const again = new OrgAccess(h.organizationId);
    for (const e of h.events) again.apply(e);
    expect(again.toSnapshot()).toEqual(h.index().toSnapshot());
  });
});
