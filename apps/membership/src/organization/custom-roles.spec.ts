import { randomUUID } from 'node:crypto';
import type { CatalogueEvent } from '@app/contracts';
import { applyRoleEvent, type CustomRoleMap } from './custom-roles';

const org = randomUUID();
const roleId = randomUUID();
const event = (type: string, data: Record<string, unknown>, service = 'authorization') =>
  ({
    id: randomUUID(),
    type,
    version: 1,
    streamId: `access-${org}`,
    streamVersion: 1,
    service,
    occurredAt: '',
    organizationId: org,
    data,
    metadata: {},
  }) as unknown as CatalogueEvent;

describe("membership's view of the custom roles (role events of authorization)", () => {
  it('follows role.created, role.changed and role.deleted of each organization, and nothing else', () => {
    const roles: CustomRoleMap = new Map();
    applyRoleEvent(
      roles,
      event('role.created', { organizationId: org, roleId, name: 'Deployers', description: 'd', scope: 'organization', permissions: ['organization.view'] }),
    );
    expect([...roles.get(org)!.values()]).toEqual([
      { id: roleId, name: 'Deployers', description: 'd', scope: 'organization', permissions: ['organization.view'] },
    ]);
    applyRoleEvent(
      roles,
      event('role.changed', {
        organizationId: org,
        roleId,
        name: 'Shippers',
        description: '',
        scope: 'organization',
        permissions: [],
        previousName: 'Deployers',
      }),
    );
    expect(roles.get(org)!.get(roleId)).toMatchObject({ name: 'Shippers', permissions: [] });
    // not a role definition: a legacy binding, and another service's event of the same type name
    applyRoleEvent(roles, event('role.assigned', { organizationId: org, roleId: randomUUID(), subjectType: 'user', subjectId: randomUUID(), projectId: null }));
    applyRoleEvent(
      roles,
      event('role.created', { organizationId: org, roleId: randomUUID(), name: 'X', scope: 'organization', permissions: [] }, 'membership'),
    );
    expect(roles.get(org)!.size).toBe(1);
    applyRoleEvent(roles, event('role.deleted', { organizationId: org.toUpperCase(), roleId, name: 'Shippers', scope: 'organization' }));
    expect(roles.get(org)!.size).toBe(0);
  });
});
