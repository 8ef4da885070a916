import { builtInRoleId, type NewEvent } from '@app/contracts';
import { asStored, deciderSpec, testMeta } from '@app/testing';
import { organizationDecider, type OrganizationCommand } from './organization.decider';
import { evolveOrganization, initialOrganizationState } from './organization.state';

const organizationId = '33333333-3333-4333-8333-333333333333';
const ownerId = '11111111-1111-4111-8111-111111111111';
const ann = '22222222-2222-4222-8222-222222222222';
const bob = '44444444-4444-4444-8444-444444444444';
const stranger = '55555555-5555-4555-8555-555555555555';
const groupId = '66666666-6666-4666-8666-666666666666';
const projectId = '77777777-7777-4777-8777-777777777777';
const memberRole = builtInRoleId(organizationId, 'member');

const create: OrganizationCommand = { kind: 'CreateOrganization', organizationId, name: 'Acme', slug: 'acme', ownerId, ownerUsername: 'owner', via: 'creator' };
const ev = (type: string, data: Record<string, unknown>): NewEvent => ({ type, version: 1, organizationId, data: { organizationId, ...data } });
const created = ev('organization.created', { name: 'Acme', slug: 'acme', ownerId });
const ownerJoined = ev('organization.member-added', { userId: ownerId, username: 'owner', roleId: builtInRoleId(organizationId, 'owner'), via: 'creator' });
const annJoined = ev('organization.member-added', { userId: ann, username: 'ann', roleId: memberRole, via: 'invite' });
const bobJoined = ev('organization.member-added', { userId: bob, username: 'bob', roleId: memberRole, via: 'invite' });
const org = [created, ownerJoined, annJoined, bobJoined];
const group = ev('group.created', { groupId, name: 'Devs', description: 'd', memberIds: [ann], roleId: memberRole });
const project = ev('project.created', { projectId, name: 'API', ownerId: ann });

describe('organization decider', () => {
  const spec = deciderSpec(organizationDecider);

  describe('CreateOrganization', () => {
    it('emits created and the creator joining as Owner, scoped to the organization', () => {
      spec.given().when(create).then([
        { type: 'organization.created', organizationId, data: { organizationId, name: 'Acme', slug: 'acme', ownerId } },
        {
          type: 'organization.member-added',
          organizationId,
          data: { organizationId, userId: ownerId, username: 'owner', roleId: builtInRoleId(organizationId, 'owner'), via: 'creator' },
        },
      ]);
    });
    it('does nothing when the organization exists', () => spec.given(created, ownerJoined).when(create).thenNothing());
  });

  describe('AddMembers', () => {
    const add = (users: Array<{ userId: string; username: string }>, roleId?: string): OrganizationCommand => ({ kind: 'AddMembers', organizationId, users, roleId, via: 'invite' });
    it('adds new members with the Member role by default, skipping members and duplicates', () => {
      spec.given(created, ownerJoined).when(add([{ userId: ann, username: 'ann' }, { userId: ownerId, username: 'owner' }, { userId: ann, username: 'ann' }])).then([
        { type: 'organization.member-added', data: { organizationId, userId: ann, username: 'ann', roleId: memberRole, via: 'invite' } },
      ]);
    });
    it('uses the given role', () => {
      const admin = builtInRoleId(organizationId, 'admin');
      spec.given(created).when(add([{ userId: ann, username: 'ann' }], admin)).then([{ data: expect.objectContaining({ roleId: admin }) }]);
    });
    it('does nothing when everyone is a member already', () => spec.given(...org).when(add([{ userId: ann, username: 'ann' }])).thenNothing());
    it('refuses an unknown organization', () => spec.given().when(add([{ userId: ann, username: 'ann' }])).thenThrows('NOT_FOUND'));
  });

  describe('RemoveMember', () => {
    const remove = (userId: string, ownerIds: string[] = [ownerId]): OrganizationCommand => ({ kind: 'RemoveMember', organizationId, userId, ownerIds });
    it('emits member-removed with the groups they were in', () => {
      spec.given(...org, group).when(remove(ann)).then([{ type: 'organization.member-removed', data: { organizationId, userId: ann, username: 'ann', groupIds: [groupId] } }]);
    });
    it('refuses an Owner', () => spec.given(...org).when(remove(ownerId)).thenThrows('OWNER_PROTECTED'));
    it('refuses someone who owns projects, naming them', () => {
      expect(() => spec.given(...org, project).when(remove(ann)).events()).toThrow(
        expect.objectContaining({ code: 'OWNS_PROJECTS', details: { projects: [{ id: projectId, name: 'API' }] } }),
      );
    });
    it('refuses a non-member', () => spec.given(...org).when(remove(stranger)).thenThrows('NOT_FOUND'));
    it('refuses a removed member (the second of two concurrent removals)', () => {
      const removed = ev('organization.member-removed', { userId: bob, username: 'bob', groupIds: [] });
      spec.given(...org, removed).when(remove(bob)).thenThrows('NOT_FOUND');
    });
  });

  describe('CreateGroup', () => {
    const createGroup = (name: string, memberIds: string[], id = groupId): OrganizationCommand => ({ kind: 'CreateGroup', organizationId, groupId: id, name, description: 'd', memberIds });
    it('creates the group with the Member role', () => {
      spec.given(...org).when(createGroup('Devs', [ann, bob, ann])).then([
        { type: 'group.created', data: { organizationId, groupId, name: 'Devs', description: 'd', memberIds: [ann, bob], roleId: memberRole } },
      ]);
    });
    it('refuses members from outside the organization', () => {
      expect(() => spec.given(...org).when(createGroup('Devs', [ann, stranger])).events()).toThrow(
        expect.objectContaining({ code: 'NOT_A_MEMBER', details: { userIds: [stranger] } }),
      );
    });
    it('refuses a taken name regardless of case', () => spec.given(...org, group).when(createGroup(' devs', [], stranger)).thenThrows('GROUP_NAME_TAKEN'));
    it('does nothing when the group exists (retried command)', () => spec.given(...org, group).when(createGroup('Devs', [ann])).thenNothing());
  });

  describe('UpdateGroup', () => {
    const update = (patch: Partial<Extract<OrganizationCommand, { kind: 'UpdateGroup' }>>): OrganizationCommand => ({ kind: 'UpdateGroup', organizationId, groupId, ...patch });
    it('renames and changes members', () => {
      spec.given(...org, group).when(update({ name: 'Core', addMemberIds: [bob], removeMemberIds: [ann] })).then([
        { type: 'group.details-changed', data: { organizationId, groupId, name: 'Core', description: 'd', previousName: 'Devs' } },
        { type: 'group.member-added', data: { organizationId, groupId, groupName: 'Core', userId: bob } },
        { type: 'group.member-removed', data: { organizationId, groupId, groupName: 'Core', userId: ann } },
      ]);
    });
    it('refuses adding a non-member', () => spec.given(...org, group).when(update({ addMemberIds: [stranger] })).thenThrows('NOT_A_MEMBER'));
    it('refuses a name another group has', () => {
      const other = ev('group.created', { groupId: stranger, name: 'Ops', description: '', memberIds: [], roleId: memberRole });
      spec.given(...org, group, other).when(update({ name: 'OPS' })).thenThrows('GROUP_NAME_TAKEN');
    });
    it('does nothing when nothing changes', () => spec.given(...org, group).when(update({ name: 'Devs', addMemberIds: [ann], removeMemberIds: [bob] })).thenNothing());
    it('refuses an unknown group', () => spec.given(...org).when(update({ name: 'x' })).thenThrows('NOT_FOUND'));
  });

  describe('DeleteGroup', () => {
    it('deletes', () => spec.given(...org, group).when({ kind: 'DeleteGroup', organizationId, groupId }).then([{ type: 'group.deleted', data: { organizationId, groupId, name: 'Devs' } }]));
    it('refuses an unknown group', () => spec.given(...org).when({ kind: 'DeleteGroup', organizationId, groupId }).thenThrows('NOT_FOUND'));
  });

  describe('projects', () => {
    it('creates a project owned by its creator', () => {
      spec.given(...org).when({ kind: 'CreateProject', organizationId, projectId, name: 'API', ownerId: ann }).then([
        { type: 'project.created', data: { organizationId, projectId, name: 'API', ownerId: ann } },
      ]);
    });
    it('refuses a creator who is not a member', () => spec.given(...org).when({ kind: 'CreateProject', organizationId, projectId, name: 'API', ownerId: stranger }).thenThrows('NOT_FOUND'));
    it('does nothing when the project exists', () => spec.given(...org, project).when({ kind: 'CreateProject', organizationId, projectId, name: 'API', ownerId: ann }).thenNothing());
    it('transfers ownership to a member', () => {
      spec.given(...org, project).when({ kind: 'TransferProject', organizationId, projectId, ownerId: bob }).then([
        { type: 'project.owner-changed', data: { organizationId, projectId, name: 'API', ownerId: bob, previousOwnerId: ann } },
      ]);
    });
    it('refuses a new owner who is not a member (e.g. removed concurrently)', () => {
      const removed = ev('organization.member-removed', { userId: bob, username: 'bob', groupIds: [] });
      spec.given(...org, project, removed).when({ kind: 'TransferProject', organizationId, projectId, ownerId: bob }).thenThrows('NOT_A_MEMBER');
    });
    it('does nothing when the owner stays the same', () => spec.given(...org, project).when({ kind: 'TransferProject', organizationId, projectId, ownerId: ann }).thenNothing());
    it('refuses an unknown project', () => spec.given(...org).when({ kind: 'TransferProject', organizationId, projectId, ownerId: bob }).thenThrows('NOT_FOUND'));
    it('deletes a project', () => spec.given(...org, project).when({ kind: 'DeleteProject', organizationId, projectId }).then([{ type: 'project.deleted', data: { organizationId, projectId, name: 'API' } }]));
    it('refuses deleting an unknown project', () => spec.given(...org).when({ kind: 'DeleteProject', organizationId, projectId }).thenThrows('NOT_FOUND'));
  });

  describe('state', () => {
    it('member removal takes the user out of every group; the initial state is never changed', () => {
      const removed = ev('organization.member-removed', { userId: ann, username: 'ann', groupIds: [groupId] });
      const state = asStored([...org, group, removed]).reduce(evolveOrganization, initialOrganizationState);
      expect(state.members).toEqual({ [ownerId]: 'owner', [bob]: 'bob' });
      expect(state.groups[groupId].memberIds).toEqual([]);
      expect(initialOrganizationState.members).toEqual({});
      expect(organizationDecider.decide(create, initialOrganizationState, testMeta())).toHaveLength(2);
    });
  });
});
