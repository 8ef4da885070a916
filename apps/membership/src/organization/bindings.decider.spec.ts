import { randomUUID } from 'node:crypto';
import type { RoleDefinition } from '@app/access-model';
import { exampleIds, exampleOrganization, orgHistory, testMeta } from '@app/testing';
import { decideOrganization, type OrganizationCommand } from './organization.decider';
import { evolveOrganization, initialOrganizationState } from './organization.state';

const ids = exampleIds();
const { owner, owner2, admin, member, group, project, custom } = ids;
const given = () => exampleOrganization(ids);
type History = ReturnType<typeof orgHistory>;

const fresh = (h: History) => {
  const id = randomUUID();
  h.memberAdded(id);
  return id;
};

/** Membership's state: its own stream only (the custom roles are not on it). */
const membershipState = (h: History) => h.events.filter((e) => e.service === 'membership').reduce(evolveOrganization, initialOrganizationState);
/** The custom roles as authorization has them (its stream). */
const customRoles = (h: History): RoleDefinition[] =>
  [...h.index().roles.values()]
    .filter((r) => !r.builtIn)
    .map(({ id, name, description, scope, permissions }) => ({ id, name, description, scope, permissions }));

type WithoutOrg<C> = C extends OrganizationCommand ? Omit<C, 'organizationId'> : never;
function decide(h: History, actor: string, command: WithoutOrg<OrganizationCommand>, roles = customRoles(h)) {
  return decideOrganization(
    { ...command, organizationId: h.organizationId } as OrganizationCommand,
    membershipState(h),
    testMeta({ actor: { id: actor } }),
    roles,
  );
}
const when = (h: History, actor: string, command: WithoutOrg<OrganizationCommand>) => () => decide(h, actor, command);
const code = (c: string) => expect.objectContaining({ code: c });

describe('organization decider: bindings (AssignRole, UnassignRole)', () => {
  const assign = (subjectId: string, roleId: string, projectId: string | null = null, subjectType: 'user' | 'group' = 'user') => ({
    kind: 'AssignRole' as const,
    subjectType,
    subjectId,
    roleId,
    projectId,
  });

  it('binds an organization role, replacing the direct one (previousRoleId); the same role again is nothing', () => {
    const h = given();
    expect(when(h, admin, assign(member, custom))()).toEqual([
      expect.objectContaining({
        type: 'role.assigned',
        data: {
          organizationId: h.organizationId,
          subjectType: 'user',
          subjectId: member,
          projectId: null,
          roleId: custom,
          roleName: 'Okta viewer',
          previousRoleId: h.role('member'),
        },
      }),
    ]);
    expect(when(h, admin, assign(member, h.role('member')))()).toEqual([]);
  });

  it('groups get organization and project roles like users', () => {
    const h = given();
    expect(when(h, admin, assign(group, h.role('project-reader'), project, 'group'))()[0].data).toMatchObject({
      subjectType: 'group',
      projectId: project,
      previousRoleId: null,
    });
  });

  it('NOT_FOUND: unknown person, group, role or project; NOT_A_MEMBER: project role for a subject outside the organization', () => {
    const h = given();
    expect(when(h, admin, assign(randomUUID(), custom))).toThrow(code('NOT_FOUND'));
    expect(when(h, admin, assign(randomUUID(), custom, null, 'group'))).toThrow(code('NOT_FOUND'));
    expect(when(h, admin, assign(member, randomUUID()))).toThrow(code('NOT_FOUND'));
    expect(when(h, admin, assign(member, h.role('project-reader'), randomUUID()))).toThrow(code('NOT_FOUND'));
    expect(when(h, admin, assign(randomUUID(), h.role('project-reader'), project))).toThrow(code('NOT_A_MEMBER'));
  });

  it('ROLE_SCOPE_MISMATCH: a project role at organization scope and the other way round', () => {
    const h = given();
    expect(when(h, admin, assign(member, h.role('project-reader')))).toThrow(code('ROLE_SCOPE_MISMATCH'));
    expect(when(h, admin, assign(member, h.role('member'), project))).toThrow(code('ROLE_SCOPE_MISMATCH'));
  });

  it('Owner: giving or taking it needs organization.change_owner (FORBIDDEN for an Admin)', () => {
    const h = given();
    expect(when(h, admin, assign(member, h.role('owner')))).toThrow(code('FORBIDDEN'));
    expect(when(h, admin, assign(owner2, h.role('member')))).toThrow(code('FORBIDDEN'));
    expect(when(h, owner, assign(member, h.role('owner')))()).toHaveLength(1);
    expect(when(h, owner, assign(owner2, h.role('admin')))()).toHaveLength(1);
  });

  it('LAST_OWNER: the last user holding Owner directly keeps it (Owners through a group do not count)', () => {
    const h = given();
    h.assigned('user', owner2, h.role('member'));
    expect(when(h, owner, assign(owner, h.role('admin')))).toThrow(code('LAST_OWNER'));
    h.assigned('group', group, h.role('owner'));
    expect(when(h, owner, assign(owner, h.role('admin')))).toThrow(code('LAST_OWNER'));
    // a group losing Owner never leaves the organization without a direct Owner
    expect(when(h, owner, assign(group, h.role('member'), null, 'group'))()).toHaveLength(1);
    h.assigned('user', owner2, h.role('owner'));
    expect(when(h, owner2, assign(owner, h.role('admin')))()).toHaveLength(1);
  });

  it('PRIVILEGE_ESCALATION: a role with permissions the binder lacks; Admin (project Admin everywhere) needs that too', () => {
    const h = given();
    const peopleManager = randomUUID();
    h.roleCreated(peopleManager, 'organization', ['organization.people.manage']).assigned('user', member, peopleManager);
    expect(when(h, member, assign(owner2, h.role('admin')))).toThrow(code('FORBIDDEN'));
    // binding the role someone already holds is still checked (and then changes nothing)
    expect(when(h, member, assign(admin, h.role('admin')))).toThrow(code('PRIVILEGE_ESCALATION'));
    expect(when(h, owner, assign(admin, h.role('admin')))()).toEqual([]);
    const fresh = randomUUID();
    h.memberAdded(fresh);
    expect(when(h, member, assign(fresh, h.role('admin')))).toThrow(code('PRIVILEGE_ESCALATION'));
    expect(when(h, member, assign(fresh, peopleManager))()).toHaveLength(1);
    expect(when(h, admin, assign(fresh, custom))()).toHaveLength(1);
    // a project role needs its permissions in that project
    expect(when(h, member, assign(fresh, h.role('project-reader'), project))).toThrow(code('PRIVILEGE_ESCALATION'));
    expect(when(h, admin, assign(fresh, h.role('project-admin'), project))()).toHaveLength(1);
  });

  it('unassign: removes a direct project binding (user or group); NOT_FOUND when there is none or no such project', () => {
    const h = given();
    expect(when(h, admin, { kind: 'UnassignRole', projectId: project, subjectId: owner })()).toEqual([
      expect.objectContaining({
        type: 'role.unassigned',
        data: {
          organizationId: h.organizationId,
          subjectType: 'user',
          subjectId: owner,
          projectId: project,
          roleId: h.role('project-admin'),
          roleName: 'Admin',
        },
      }),
    ]);
    expect(when(h, admin, { kind: 'UnassignRole', projectId: project, subjectId: member })).toThrow(code('NOT_FOUND'));
    expect(when(h, admin, { kind: 'UnassignRole', projectId: randomUUID(), subjectId: owner })).toThrow(code('NOT_FOUND'));
    h.assigned('group', group, h.role('project-reader'), project);
    expect(when(h, admin, { kind: 'UnassignRole', projectId: project, subjectId: group })()[0].data).toMatchObject({ subjectType: 'group' });
  });

  it('an unknown organization is NOT_FOUND', () => {
    const h = orgHistory();
    expect(when(h, owner, assign(member, h.role('member')))).toThrow(code('NOT_FOUND'));
  });

  it("the custom roles are authorization's, given as input: a role it no longer has is NOT_FOUND; a binding to one that is gone counts as Member", () => {
    const h = given();
    h.assigned('user', member, custom);
    expect(() => decide(h, owner, assign(fresh(h), custom), [])).toThrow(code('NOT_FOUND'));
    // the member's organization role is gone: they hold what Member holds, which the Admin may give
    expect(() => decide(h, admin, { kind: 'ResetMemberPassword', userId: member }, [])).not.toThrow();
    expect(() => decide(h, admin, assign(member, h.role('member')), [])).not.toThrow();
  });

  it('deciding a binding without the custom roles is a programming error, not a decision', () => {
    const h = given();
    expect(() =>
      decideOrganization({ ...assign(member, custom), organizationId: h.organizationId }, membershipState(h), testMeta({ actor: { id: owner } })),
    ).toThrow(/custom roles/);
  });
});
