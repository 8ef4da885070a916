import { randomUUID } from 'node:crypto';
import { OrgAccess } from '@app/access-model';
import { builtInRoleId, type DomainEvent } from '@app/contracts';
import { mayRevoke } from './revocation';

const org = randomUUID();
const state = new OrgAccess(org).withCustomRoles([
  { id: 'viewers', name: 'Viewers', description: '', scope: 'organization', permissions: ['organization.view'] },
  {
    id: 'wide',
    name: 'Wide',
    description: '',
    scope: 'organization',
    permissions: ['organization.view', 'organization.people.view', 'organization.groups.manage'],
  },
]);
const event = (type: string, data: Record<string, unknown> = {}): DomainEvent => ({
  id: randomUUID(),
  type,
  version: 1,
  streamId: `organization-${org}`,
  streamVersion: 2,
  service: 'membership',
  occurredAt: '',
  organizationId: org,
  data: { organizationId: org, ...data },
  metadata: { actor: { id: 'a' }, correlationId: 'c', causationId: 'c', medium: 'api' },
});
const assigned = (previousRoleId: string | null, roleId: string, projectId: string | null = null) =>
  event('role.assigned', { subjectType: 'user', subjectId: randomUUID(), projectId, roleId, roleName: 'R', previousRoleId });
const role = (key: Parameters<typeof builtInRoleId>[1]) => builtInRoleId(org, key);

describe('mayRevoke: which organization events wait for the broker before their command answers', () => {
  it('what only adds does not revoke: members, groups, group members, projects, details, a first binding', () => {
    for (const type of ['organization.member-added', 'group.created', 'group.member-added', 'group.details-changed', 'project.created'])
      expect(mayRevoke(event(type), state)).toBe(false);
    expect(mayRevoke(assigned(null, role('owner')), state)).toBe(false);
  });

  it('a role replaced by one granting all it granted (and its project role everywhere) does not revoke; any other replacement does', () => {
    expect(mayRevoke(assigned(role('member'), role('admin')), state)).toBe(false);
    expect(mayRevoke(assigned('viewers', 'wide'), state)).toBe(false);
    expect(mayRevoke(assigned(role('admin'), role('member')), state)).toBe(true);
    expect(mayRevoke(assigned('wide', 'viewers'), state)).toBe(true);
    expect(mayRevoke(assigned(role('owner'), 'wide'), state)).toBe(true);
    expect(mayRevoke(assigned(role('admin'), 'wide'), state)).toBe(true);
    // a role that no longer exists: Member at organization scope (Member → Viewers may lose), nothing in a project
    expect(mayRevoke(assigned('gone', role('member')), state)).toBe(false);
    expect(mayRevoke(assigned('gone', 'viewers'), state)).toBe(true);
    expect(mayRevoke(assigned('gone', 'viewers', randomUUID()), state)).toBe(false);
  });

  it('removals, deletions, transfers and unknown events revoke', () => {
    for (const type of [
      'organization.member-removed',
      'group.member-removed',
      'group.deleted',
      'project.deleted',
      'project.owner-changed',
      'role.unassigned',
      'organization.bindings-imported',
      'something.new',
    ])
      expect(mayRevoke(event(type), state)).toBe(true);
  });
});
