import { randomUUID } from 'node:crypto';
import { PROJECT_PERMISSIONS } from '@app/contracts';
import { testMeta } from '@app/testing';
import { orgHistory } from '../testing/org-events';
import { decideAccess, type AccessCommand } from './access.decider';

const owner = randomUUID();
const owner2 = randomUUID();
const admin = randomUUID();
const member = randomUUID();
const group = randomUUID();
const project = randomUUID();
const custom = randomUUID();

/** An organization with two Owners, an Admin, a Member in a group, a project and a custom role. */
function given() {
  return orgHistory()
    .created(owner)
    .memberAdded(owner2, 'owner')
    .memberAdded(admin, 'admin')
    .memberAdded(member, 'member')
    .groupCreated(group, [member])
    .projectCreated(project, owner)
    .roleCreated(custom, 'organization', ['organization.view', 'organization.okta.view'], 'Okta viewer');
}

type WithoutOrg<C> = C extends AccessCommand ? Omit<C, 'organizationId'> : never;

function when(h: ReturnType<typeof given>, actor: string, command: WithoutOrg<AccessCommand>) {
  return () => decideAccess({ ...command, organizationId: h.organizationId } as AccessCommand, h.index(), testMeta({ actor: { id: actor } }));
}
const code = (c: string) => expect.objectContaining({ code: c });

describe('access decider: custom roles', () => {
  const create = (extra: Partial<Extract<AccessCommand, { kind: 'CreateRole' }>> = {}) => ({
    kind: 'CreateRole' as const,
    roleId: 'a0000000-0000-4000-8000-000000000001',
    name: 'Auditor',
    description: 'reads logs',
    scope: 'organization' as const,
    permissions: ['organization.audit_logs.view'],
    ...extra,
  });

  it('creates a role, always including organization.view / project.view, in catalogue order', () => {
    const h = given();
    expect(when(h, owner, create())()).toEqual([
      {
        type: 'role.created',
        version: 1,
        organizationId: h.organizationId,
        data: { organizationId: h.organizationId, roleId: create().roleId, name: 'Auditor', description: 'reads logs', scope: 'organization', permissions: ['organization.view', 'organization.audit_logs.view'] },
      },
    ]);
    expect(when(h, owner, create({ scope: 'project', permissions: ['project.job.stop'] }))()[0].data.permissions).toEqual(['project.view', 'project.job.stop']);
  });

  it('ROLE_SCOPE_MISMATCH: a permission of the other scope, or an unknown one', () => {
    const h = given();
    expect(when(h, owner, create({ permissions: ['project.view'] }))).toThrow(code('ROLE_SCOPE_MISMATCH'));
    expect(when(h, owner, create({ permissions: ['organization.nope'] }))).toThrow(code('ROLE_SCOPE_MISMATCH'));
  });

  it('ROLE_NAME_TAKEN: same name and scope regardless of case, built-in names included; another scope is fine', () => {
    const h = given();
    expect(when(h, owner, create({ name: 'okta VIEWER' }))).toThrow(code('ROLE_NAME_TAKEN'));
    expect(when(h, owner, create({ name: 'admin' }))).toThrow(code('ROLE_NAME_TAKEN'));
    expect(when(h, owner, create({ name: 'Okta viewer', scope: 'project', permissions: [] }))()).toHaveLength(1);
  });

  it('PRIVILEGE_ESCALATION: a permission the creator lacks (organization, and project permissions they do not hold everywhere)', () => {
    const h = given();
    h.roleCreated(randomUUID(), 'organization', ['organization.custom_roles.manage'], 'Role manager').assigned('user', member, [...h.index().roles.values()].find((r) => r.name === 'Role manager')!.id);
    expect(when(h, member, create({ permissions: ['organization.delete'] }))).toThrow(code('PRIVILEGE_ESCALATION'));
    expect(when(h, member, create({ scope: 'project', permissions: ['project.view'] }))).toThrow(code('PRIVILEGE_ESCALATION'));
    expect(when(h, member, create({ permissions: ['organization.custom_roles.manage'] }))()).toHaveLength(1);
    expect(when(h, owner, create({ scope: 'project', permissions: PROJECT_PERMISSIONS as string[] }))()).toHaveLength(1);
  });

  it('edits: permissions replace; nothing to do gives no event; built-in ROLE_READ_ONLY; unknown NOT_FOUND; name taken', () => {
    const h = given();
    const [changed] = when(h, owner, { kind: 'ChangeRole', roleId: custom, permissions: ['organization.okta.manage'] })();
    expect(changed).toMatchObject({ type: 'role.changed', data: { roleId: custom, name: 'Okta viewer', previousName: 'Okta viewer', permissions: ['organization.view', 'organization.okta.manage'], scope: 'organization' } });
    expect(when(h, owner, { kind: 'ChangeRole', roleId: custom, name: 'Okta viewer', permissions: ['organization.okta.view'] })()).toEqual([]);
    expect(when(h, owner, { kind: 'ChangeRole', roleId: h.role('member'), name: 'x' })).toThrow(code('ROLE_READ_ONLY'));
    expect(when(h, owner, { kind: 'ChangeRole', roleId: randomUUID(), name: 'x' })).toThrow(code('NOT_FOUND'));
    expect(when(h, owner, { kind: 'ChangeRole', roleId: custom, name: 'Owner' })).toThrow(code('ROLE_NAME_TAKEN'));
    expect(when(h, owner, { kind: 'ChangeRole', roleId: custom, permissions: ['project.view'] })).toThrow(code('ROLE_SCOPE_MISMATCH'));
    expect(when(h, admin, { kind: 'ChangeRole', roleId: custom, permissions: ['organization.delete'] })).toThrow(code('PRIVILEGE_ESCALATION'));
  });

  it('deletes an unused custom role; ROLE_IN_USE when bound to anyone (user, group, project); ROLE_READ_ONLY for built-ins', () => {
    const h = given();
    expect(when(h, owner, { kind: 'DeleteRole', roleId: custom })()).toEqual([expect.objectContaining({ type: 'role.deleted', data: expect.objectContaining({ roleId: custom, name: 'Okta viewer' }) })]);
    expect(when(h, owner, { kind: 'DeleteRole', roleId: h.role('admin') })).toThrow(code('ROLE_READ_ONLY'));
    h.assigned('group', group, custom);
    expect(when(h, owner, { kind: 'DeleteRole', roleId: custom })).toThrow(code('ROLE_IN_USE'));
    const pr = randomUUID();
    h.roleCreated(pr, 'project', ['project.view']).assigned('user', member, pr, project);
    expect(when(h, owner, { kind: 'DeleteRole', roleId: pr })).toThrow(code('ROLE_IN_USE'));
  });
});

describe('access decider: bindings', () => {
  const assign = (subjectId: string, roleId: string, projectId: string | null = null, subjectType: 'user' | 'group' = 'user') =>
    ({ kind: 'AssignRole' as const, subjectType, subjectId, roleId, projectId });

  it('binds an organization role, replacing the direct one (previousRoleId); the same role again is nothing', () => {
    const h = given();
    expect(when(h, admin, assign(member, custom))()).toEqual([
      expect.objectContaining({ type: 'role.assigned', data: { organizationId: h.organizationId, subjectType: 'user', subjectId: member, projectId: null, roleId: custom, roleName: 'Okta viewer', previousRoleId: h.role('member') } }),
    ]);
    expect(when(h, admin, assign(member, h.role('member')))()).toEqual([]);
  });

  it('groups get organization and project roles like users', () => {
    const h = given();
    expect(when(h, admin, assign(group, h.role('project-reader'), project, 'group'))()[0].data).toMatchObject({ subjectType: 'group', projectId: project, previousRoleId: null });
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
      expect.objectContaining({ type: 'role.unassigned', data: { organizationId: h.organizationId, subjectType: 'user', subjectId: owner, projectId: project, roleId: h.role('project-admin'), roleName: 'Admin' } }),
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
});
