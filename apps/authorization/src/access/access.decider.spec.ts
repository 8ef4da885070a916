import { randomUUID } from 'node:crypto';
import { PROJECT_PERMISSIONS } from '@app/contracts';
import { exampleIds, exampleOrganization, orgHistory, testMeta } from '@app/testing';
import { decideAccess, type AccessCommand } from './access.decider';

const ids = exampleIds();
const { owner, admin, member, group, project, custom } = ids;
const given = () => exampleOrganization(ids);

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
        data: {
          organizationId: h.organizationId,
          roleId: create().roleId,
          name: 'Auditor',
          description: 'reads logs',
          scope: 'organization',
          permissions: ['organization.view', 'organization.audit_logs.view'],
        },
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
    h.roleCreated(randomUUID(), 'organization', ['organization.custom_roles.manage'], 'Role manager').assigned(
      'user',
      member,
      [...h.index().roles.values()].find((r) => r.name === 'Role manager')!.id,
    );
    expect(when(h, member, create({ permissions: ['organization.delete'] }))).toThrow(code('PRIVILEGE_ESCALATION'));
    expect(when(h, member, create({ scope: 'project', permissions: ['project.view'] }))).toThrow(code('PRIVILEGE_ESCALATION'));
    expect(when(h, member, create({ permissions: ['organization.custom_roles.manage'] }))()).toHaveLength(1);
    expect(when(h, owner, create({ scope: 'project', permissions: PROJECT_PERMISSIONS as string[] }))()).toHaveLength(1);
  });

  it('edits: permissions replace; nothing to do gives no event; built-in ROLE_READ_ONLY; unknown NOT_FOUND; name taken', () => {
    const h = given();
    const [changed] = when(h, owner, { kind: 'ChangeRole', roleId: custom, permissions: ['organization.okta.manage'] })();
    expect(changed).toMatchObject({
      type: 'role.changed',
      data: {
        roleId: custom,
        name: 'Okta viewer',
        previousName: 'Okta viewer',
        permissions: ['organization.view', 'organization.okta.manage'],
        scope: 'organization',
      },
    });
    expect(when(h, owner, { kind: 'ChangeRole', roleId: custom, name: 'Okta viewer', permissions: ['organization.okta.view'] })()).toEqual([]);
    expect(when(h, owner, { kind: 'ChangeRole', roleId: h.role('member'), name: 'x' })).toThrow(code('ROLE_READ_ONLY'));
    expect(when(h, owner, { kind: 'ChangeRole', roleId: randomUUID(), name: 'x' })).toThrow(code('NOT_FOUND'));
    expect(when(h, owner, { kind: 'ChangeRole', roleId: custom, name: 'Owner' })).toThrow(code('ROLE_NAME_TAKEN'));
    expect(when(h, owner, { kind: 'ChangeRole', roleId: custom, permissions: ['project.view'] })).toThrow(code('ROLE_SCOPE_MISMATCH'));
    expect(when(h, admin, { kind: 'ChangeRole', roleId: custom, permissions: ['organization.delete'] })).toThrow(code('PRIVILEGE_ESCALATION'));
  });

  it('deletes an unused custom role; ROLE_IN_USE when bound to anyone (user, group, project); ROLE_READ_ONLY for built-ins', () => {
    const h = given();
    expect(when(h, owner, { kind: 'DeleteRole', roleId: custom })()).toEqual([
      expect.objectContaining({ type: 'role.deleted', data: expect.objectContaining({ roleId: custom, name: 'Okta viewer' }) }),
    ]);
    expect(when(h, owner, { kind: 'DeleteRole', roleId: h.role('admin') })).toThrow(code('ROLE_READ_ONLY'));
    h.assigned('group', group, custom);
    expect(when(h, owner, { kind: 'DeleteRole', roleId: custom })).toThrow(code('ROLE_IN_USE'));
    const pr = randomUUID();
    h.roleCreated(pr, 'project', ['project.view']).assigned('user', member, pr, project);
    expect(when(h, owner, { kind: 'DeleteRole', roleId: pr })).toThrow(code('ROLE_IN_USE'));
  });
});

describe('access decider: the organization', () => {
  it('an unknown organization is NOT_FOUND', () => {
    const h = orgHistory();
    expect(when(h, owner, { kind: 'DeleteRole', roleId: custom })).toThrow(code('NOT_FOUND'));
  });
});
