import { builtInRoleId, catalogueEvent, type NewEvent } from '@app/contracts';
import { asStored, deciderSpec, testMeta } from '@app/testing';
import { decideOrganization, organizationDecider, type OrganizationCommand } from './organization.decider';
import { evolveOrganization, initialOrganizationState } from './organization.state';
import { OrgAccess } from '@app/access-model';

const organizationId = '33333333-3333-4333-8333-333333333333';
const ownerId = '11111111-1111-4111-8111-111111111111';
const ann = '22222222-2222-4222-8222-222222222222';
const bob = '44444444-4444-4444-8444-444444444444';
const stranger = '55555555-5555-4555-8555-555555555555';
const groupId = '66666666-6666-4666-8666-666666666666';
const projectId = '77777777-7777-4777-8777-777777777777';
const otherProjectId = '99999999-9999-4999-8999-999999999999';
const memberRole = builtInRoleId(organizationId, 'member');

const create: OrganizationCommand = { kind: 'CreateOrganization', organizationId, name: 'Acme', slug: 'acme', ownerId, ownerUsername: 'owner', via: 'creator' };
const ev = (type: string, data: Record<string, unknown>): NewEvent => ({ type, version: 1, organizationId, data: { organizationId, ...data } });
const created = ev('organization.created', { name: 'Acme', slug: 'acme', ownerId });
const ownerJoined = ev('organization.member-added', { userId: ownerId, username: 'owner', roleId: builtInRoleId(organizationId, 'owner'), via: 'creator' });
const annJoined = ev('organization.member-added', { userId: ann, username: 'ann', roleId: memberRole, via: 'invite' });
const bobJoined = ev('organization.member-added', { userId: bob, username: 'bob', roleId: memberRole, via: 'invite' });
const org = [created, ownerJoined, annJoined, bobJoined];
const admin = '88888888-8888-4888-8888-888888888888';
const adminJoined = ev('organization.member-added', { userId: admin, username: 'adam', roleId: builtInRoleId(organizationId, 'admin'), via: 'invite' });
const group = ev('group.created', { groupId, name: 'Devs', description: 'd', memberIds: [ann], roleId: memberRole });
const project = ev('project.created', { projectId, name: 'API', ownerId: ann });

/** The organization has no custom roles (authorization's answer, given as input); the Owner acts unless a test says otherwise. */
const asOwner = testMeta({ actor: { id: ownerId } });
const as = (userId: string) => testMeta({ actor: { id: userId } });

describe('organization decider', () => {
  const spec = deciderSpec({ ...organizationDecider, decide: (c: OrganizationCommand, s, m) => decideOrganization(c, s, m, []) });

  describe('CreateOrganization', () => {
    it('emits created and the creator joining as Owner, scoped to the organization', () => {
      spec
        .given()
        .when(create)
        .then([
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

  describe('service accounts', () => {
    const sa = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
    const owner = builtInRoleId(organizationId, 'owner');
    const adminRole = builtInRoleId(organizationId, 'admin');
    const addSa = (roleId?: string): OrganizationCommand => ({ kind: 'AddServiceAccount', organizationId, serviceAccountId: sa, name: 'ci-deploy', roleId });
    const saJoined = ev('organization.member-added', { userId: sa, username: 'ci-deploy', roleId: memberRole, via: 'service-account' });
    it('joins with the Member role by default, via service-account', () => {
      spec
        .given(...org)
        .when(addSa(), asOwner)
        .then([{ type: 'organization.member-added', data: { organizationId, userId: sa, username: 'ci-deploy', roleId: memberRole, via: 'service-account' } }]);
      spec
        .given(...org, saJoined)
        .when(addSa(), asOwner)
        .thenNothing();
    });
    it('checkOnly: the role rules only, nothing added', () => {
      spec
        .given(...org)
        .when({ ...addSa(adminRole), checkOnly: true } as OrganizationCommand, asOwner)
        .thenNothing();
      spec
        .given(...org)
        .when({ ...addSa(owner), checkOnly: true } as OrganizationCommand, asOwner)
        .thenThrows('PRIVILEGE_ESCALATION');
      spec
        .given(...org)
        .when({ ...addSa(adminRole), checkOnly: true } as OrganizationCommand, as(ann))
        .thenThrows('PRIVILEGE_ESCALATION');
    });
    it('never as Owner, even by an Owner; never with a role beyond the actor', () => {
      spec
        .given(...org)
        .when(addSa(owner), asOwner)
        .thenThrows('PRIVILEGE_ESCALATION');
      spec
        .given(...org)
        .when(addSa(adminRole), as(ann))
        .thenThrows('PRIVILEGE_ESCALATION');
      spec
        .given(...org, adminJoined)
        .when(addSa(adminRole), as(admin))
        .then([{ data: expect.objectContaining({ roleId: adminRole, via: 'service-account' }) }]);
    });
    it('is never made Owner: directly, by joining a group holding Owner, or by its group becoming Owner', () => {
      const assign = (subjectType: 'user' | 'group', subjectId: string, roleId = owner): OrganizationCommand => ({
        kind: 'AssignRole',
        organizationId,
        subjectType,
        subjectId,
        projectId: null,
        roleId,
      });
      spec
        .given(...org, saJoined)
        .when(assign('user', sa), asOwner)
        .thenThrows('PRIVILEGE_ESCALATION');
      const saInGroup = ev('group.member-added', { groupId, groupName: 'Devs', userId: sa });
      spec
        .given(...org, saJoined, group, saInGroup)
        .when(assign('group', groupId), asOwner)
        .thenThrows('PRIVILEGE_ESCALATION');
      const groupOwner = ev('role.assigned', {
        subjectType: 'group',
        subjectId: groupId,
        projectId: null,
        roleId: owner,
        roleName: 'Owner',
        previousRoleId: memberRole,
      });
      spec
        .given(...org, saJoined, group, groupOwner)
        .when({ kind: 'UpdateGroup', organizationId, groupId, addMemberIds: [sa] }, asOwner)
        .thenThrows('PRIVILEGE_ESCALATION');
      // people still can
      spec
        .given(...org, saJoined, group, groupOwner)
        .when({ kind: 'UpdateGroup', organizationId, groupId, addMemberIds: [bob] }, asOwner)
        .then([{ type: 'group.member-added' }]);
      spec
        .given(...org, saJoined, group, saInGroup)
        .when(assign('group', groupId, adminRole), asOwner)
        .then([{ type: 'role.assigned' }]);
    });
    it('the state knows it is a service account, through a snapshot too', () => {
      const state = asStored([...org, saJoined])
        .map(catalogueEvent)
        .reduce(evolveOrganization, initialOrganizationState);
      expect(state.users.get(sa)?.serviceAccount).toBe(true);
      expect(state.users.get(ann)?.serviceAccount).toBeUndefined();
      expect(OrgAccess.fromSnapshot(JSON.parse(JSON.stringify(state.toSnapshot()))).users.get(sa)?.serviceAccount).toBe(true);
    });
  });

  describe('AddMembers', () => {
    const add = (users: Array<{ userId: string; username: string }>, roleId?: string): OrganizationCommand => ({
      kind: 'AddMembers',
      organizationId,
      users,
      roleId,
      via: 'invite',
    });
    it('adds new members with the Member role by default, skipping members and duplicates', () => {
      spec
        .given(created, ownerJoined)
        .when(
          add([
            { userId: ann, username: 'ann' },
            { userId: ownerId, username: 'owner' },
            { userId: ann, username: 'ann' },
          ]),
          asOwner,
        )
        .then([{ type: 'organization.member-added', data: { organizationId, userId: ann, username: 'ann', roleId: memberRole, via: 'invite' } }]);
    });
    it('uses the given role', () => {
      const admin = builtInRoleId(organizationId, 'admin');
      spec
        .given(created, ownerJoined)
        .when(add([{ userId: ann, username: 'ann' }], admin), asOwner)
        .then([{ data: expect.objectContaining({ roleId: admin }) }]);
    });
    it('does nothing when everyone is a member already', () =>
      spec
        .given(...org)
        .when(add([{ userId: ann, username: 'ann' }]), asOwner)
        .thenNothing());
    it('refuses an unknown organization', () =>
      spec
        .given()
        .when(add([{ userId: ann, username: 'ann' }]))
        .thenThrows('NOT_FOUND'));
    it('joining with a role is binding it: Owner only with organization.change_owner, a role beyond the actor refused, an unknown role NOT_FOUND (even when nobody is new)', () => {
      spec
        .given(...org, adminJoined)
        .when(add([{ userId: stranger, username: 's' }], builtInRoleId(organizationId, 'owner')), as(bob))
        .thenThrows('FORBIDDEN');
      spec
        .given(...org, adminJoined)
        .when(add([{ userId: stranger, username: 's' }], builtInRoleId(organizationId, 'admin')), as(ann))
        .thenThrows('PRIVILEGE_ESCALATION');
      spec
        .given(...org)
        .when(add([], builtInRoleId(organizationId, 'admin')), as(ann))
        .thenThrows('PRIVILEGE_ESCALATION');
      spec
        .given(...org)
        .when(add([{ userId: stranger, username: 's' }], stranger), asOwner)
        .thenThrows('NOT_FOUND');
      spec
        .given(...org, adminJoined)
        .when(add([{ userId: stranger, username: 's' }]), as(bob))
        .then([{ data: expect.objectContaining({ userId: stranger, roleId: memberRole }) }]);
    });
  });

  describe('RemoveMember', () => {
    const remove = (userId: string): OrganizationCommand => ({ kind: 'RemoveMember', organizationId, userId });
    it('emits member-removed with the groups they were in', () => {
      spec
        .given(...org, group)
        .when(remove(ann))
        .then([{ type: 'organization.member-removed', data: { organizationId, userId: ann, username: 'ann', groupIds: [groupId] } }]);
    });
    it('refuses an Owner, directly or through a group, from the bindings on this stream', () => {
      spec
        .given(...org)
        .when(remove(ownerId))
        .thenThrows('OWNER_PROTECTED');
      spec
        .given(
          ...org,
          ev('role.assigned', {
            subjectType: 'user',
            subjectId: bob,
            projectId: null,
            roleId: builtInRoleId(organizationId, 'owner'),
            roleName: 'Owner',
            previousRoleId: memberRole,
          }),
        )
        .when(remove(bob))
        .thenThrows('OWNER_PROTECTED');
      const ownersGroup = ev('role.assigned', {
        subjectType: 'group',
        subjectId: groupId,
        projectId: null,
        roleId: builtInRoleId(organizationId, 'owner'),
        roleName: 'Owner',
        previousRoleId: memberRole,
      });
      spec
        .given(...org, group, ownersGroup)
        .when(remove(ann))
        .thenThrows('OWNER_PROTECTED');
      spec
        .given(
          ...org,
          group,
          ownersGroup,
          ev('role.assigned', { subjectType: 'group', subjectId: groupId, projectId: null, roleId: memberRole, roleName: 'Member', previousRoleId: null }),
        )
        .when(remove(ann))
        .then([{ type: 'organization.member-removed' }]);
    });
    it('refuses someone who owns projects, naming them', () => {
      expect(() =>
        spec
          .given(...org, project)
          .when(remove(ann))
          .events(),
      ).toThrow(expect.objectContaining({ code: 'OWNS_PROJECTS', details: { projects: [{ id: projectId, name: 'API' }] } }));
    });
    it('refuses a non-member', () =>
      spec
        .given(...org)
        .when(remove(stranger))
        .thenThrows('NOT_FOUND'));
    it('refuses a removed member (the second of two concurrent removals)', () => {
      const removed = ev('organization.member-removed', { userId: bob, username: 'bob', groupIds: [] });
      spec
        .given(...org, removed)
        .when(remove(bob))
        .thenThrows('NOT_FOUND');
    });
  });

  describe('CreateGroup', () => {
    const createGroup = (name: string, memberIds: string[], id = groupId): OrganizationCommand => ({
      kind: 'CreateGroup',
      organizationId,
      groupId: id,
      name,
      description: 'd',
      memberIds,
    });
    it('creates the group with the Member role', () => {
      spec
        .given(...org)
        .when(createGroup('Devs', [ann, bob, ann]), asOwner)
        .then([{ type: 'group.created', data: { organizationId, groupId, name: 'Devs', description: 'd', memberIds: [ann, bob], roleId: memberRole } }]);
    });
    it('refuses members from outside the organization', () => {
      expect(() =>
        spec
          .given(...org)
          .when(createGroup('Devs', [ann, stranger]), asOwner)
          .events(),
      ).toThrow(expect.objectContaining({ code: 'NOT_A_MEMBER', details: { userIds: [stranger] } }));
    });
    it('refuses a taken name regardless of case', () =>
      spec
        .given(...org, group)
        .when(createGroup(' devs', [], stranger))
        .thenThrows('GROUP_NAME_TAKEN'));
    it('does nothing when the group exists (retried command)', () =>
      spec
        .given(...org, group)
        .when(createGroup('Devs', [ann]))
        .thenNothing());
    it('a group with members gives them Member: only by someone who holds all of Member (no grant without members)', () => {
      const narrow = ev('role.created', {
        roleId: stranger,
        name: 'Groups',
        description: '',
        scope: 'organization',
        permissions: ['organization.view', 'organization.groups.manage'],
      });
      const narrowBob = ev('role.assigned', {
        subjectType: 'user',
        subjectId: bob,
        projectId: null,
        roleId: stranger,
        roleName: 'Groups',
        previousRoleId: memberRole,
      });
      const narrowSpec = deciderSpec({
        ...organizationDecider,
        decide: (c: OrganizationCommand, st, m) =>
          decideOrganization(c, st, m, [
            { id: stranger, name: 'Groups', description: '', scope: 'organization', permissions: ['organization.view', 'organization.groups.manage'] },
          ]),
      });
      narrowSpec
        .given(...org, narrow, narrowBob)
        .when(createGroup('Devs', [ann]), as(bob))
        .thenThrows('PRIVILEGE_ESCALATION');
      narrowSpec
        .given(...org, narrow, narrowBob)
        .when(createGroup('Devs', []), as(bob))
        .then([{ type: 'group.created' }]);
    });
  });

  describe('UpdateGroup', () => {
    const update = (patch: Partial<Extract<OrganizationCommand, { kind: 'UpdateGroup' }>>): OrganizationCommand => ({
      kind: 'UpdateGroup',
      organizationId,
      groupId,
      ...patch,
    });
    it('renames and changes members', () => {
      spec
        .given(...org, group)
        .when(update({ name: 'Core', addMemberIds: [bob], removeMemberIds: [ann] }), asOwner)
        .then([
          { type: 'group.details-changed', data: { organizationId, groupId, name: 'Core', description: 'd', previousName: 'Devs' } },
          { type: 'group.member-added', data: { organizationId, groupId, groupName: 'Core', userId: bob } },
          { type: 'group.member-removed', data: { organizationId, groupId, groupName: 'Core', userId: ann } },
        ]);
    });
    it('memberIds, the whole new list, is decided against the members the group has on this stream', () => {
      spec
        .given(...org, group)
        .when(update({ memberIds: [bob] }), asOwner)
        .then([
          { type: 'group.member-added', data: { organizationId, groupId, groupName: 'Devs', userId: bob } },
          { type: 'group.member-removed', data: { organizationId, groupId, groupName: 'Devs', userId: ann } },
        ]);
      // bob joined in the meantime (another command decided first): a list naming him keeps him, one without him removes him
      const bobJoined = ev('group.member-added', { groupId, groupName: 'Devs', userId: bob });
      spec
        .given(...org, group, bobJoined)
        .when(update({ memberIds: [ann, bob] }), asOwner)
        .thenNothing();
      spec
        .given(...org, group, bobJoined)
        .when(update({ memberIds: [ann] }), asOwner)
        .then([{ type: 'group.member-removed', data: { organizationId, groupId, groupName: 'Devs', userId: bob } }]);
      spec
        .given(...org, group)
        .when(update({ memberIds: [bob], addMemberIds: [bob] }), asOwner)
        .thenThrows('VALIDATION_FAILED');
      spec
        .given(...org, group)
        .when(update({ memberIds: [stranger] }), asOwner)
        .thenThrows('NOT_A_MEMBER');
    });
    it('refuses adding a non-member', () =>
      spec
        .given(...org, group)
        .when(update({ addMemberIds: [stranger] }), asOwner)
        .thenThrows('NOT_A_MEMBER'));
    it('refuses a name another group has', () => {
      const other = ev('group.created', { groupId: stranger, name: 'Ops', description: '', memberIds: [], roleId: memberRole });
      spec
        .given(...org, group, other)
        .when(update({ name: 'OPS' }))
        .thenThrows('GROUP_NAME_TAKEN');
    });
    it('does nothing when nothing changes', () =>
      spec
        .given(...org, group)
        .when(update({ name: 'Devs', addMemberIds: [ann], removeMemberIds: [bob] }), asOwner)
        .thenNothing());
    it('a group holding Owner: people put in, taken out (or the group deleted) only with organization.change_owner; an Admin may rename it', () => {
      const ownersGroup = ev('role.assigned', {
        subjectType: 'group',
        subjectId: groupId,
        projectId: null,
        roleId: builtInRoleId(organizationId, 'owner'),
        roleName: 'Owner',
        previousRoleId: memberRole,
      });
      spec
        .given(...org, adminJoined, group, ownersGroup)
        .when(update({ addMemberIds: [bob] }), as(admin))
        .thenThrows('FORBIDDEN');
      spec
        .given(...org, adminJoined, group, ownersGroup)
        .when(update({ removeMemberIds: [ann] }), as(admin))
        .thenThrows('FORBIDDEN');
      spec
        .given(...org, adminJoined, group, ownersGroup)
        .when({ kind: 'DeleteGroup', organizationId, groupId }, as(admin))
        .thenThrows('FORBIDDEN');
      spec
        .given(...org, adminJoined, group, ownersGroup)
        .when(update({ name: 'Owners' }), as(admin))
        .then([{ type: 'group.details-changed' }]);
      spec
        .given(...org, adminJoined, group, ownersGroup)
        .when(update({ addMemberIds: [bob] }), asOwner)
        .then([{ type: 'group.member-added' }]);
    });
    it('a group holding a role beyond the actor: nobody put in it by them', () => {
      const adminGroup = ev('role.assigned', {
        subjectType: 'group',
        subjectId: groupId,
        projectId: null,
        roleId: builtInRoleId(organizationId, 'admin'),
        roleName: 'Admin',
        previousRoleId: memberRole,
      });
      spec
        .given(...org, group, adminGroup)
        .when(update({ addMemberIds: [bob] }), as(bob))
        .thenThrows('PRIVILEGE_ESCALATION');
    });
    it('refuses an unknown group', () =>
      spec
        .given(...org)
        .when(update({ name: 'x' }))
        .thenThrows('NOT_FOUND'));
  });

  describe('DeleteGroup', () => {
    it('deletes', () =>
      spec
        .given(...org, group)
        .when({ kind: 'DeleteGroup', organizationId, groupId }, asOwner)
        .then([{ type: 'group.deleted', data: { organizationId, groupId, name: 'Devs' } }]));
    it('refuses an unknown group', () =>
      spec
        .given(...org)
        .when({ kind: 'DeleteGroup', organizationId, groupId })
        .thenThrows('NOT_FOUND'));
  });

  describe('projects', () => {
    it('creates a project owned by its creator', () => {
      spec
        .given(...org)
        .when({ kind: 'CreateProject', organizationId, projectId, name: 'API', ownerId: ann })
        .then([{ type: 'project.created', data: { organizationId, projectId, name: 'API', ownerId: ann } }]);
    });
    it('refuses a creator who is not a member', () =>
      spec
        .given(...org)
        .when({ kind: 'CreateProject', organizationId, projectId, name: 'API', ownerId: stranger })
        .thenThrows('NOT_FOUND'));
    it('does nothing when the project exists', () =>
      spec
        .given(...org, project)
        .when({ kind: 'CreateProject', organizationId, projectId, name: 'API', ownerId: ann })
        .thenNothing());
    it('refuses a name another project of the organization has, regardless of case (PROJECT_NAME_TAKEN)', () =>
      spec
        .given(...org, project)
        .when({ kind: 'CreateProject', organizationId, projectId: otherProjectId, name: ' api ', ownerId: bob })
        .thenThrows('PROJECT_NAME_TAKEN'));
    it("frees a deleted project's name", () =>
      spec
        .given(...org, project, ev('project.deleted', { projectId, name: 'API' }))
        .when({ kind: 'CreateProject', organizationId, projectId: otherProjectId, name: 'Api', ownerId: bob })
        .then([{ type: 'project.created', data: { organizationId, projectId: otherProjectId, name: 'Api', ownerId: bob } }]));
    it('transfers ownership to a member', () => {
      spec
        .given(...org, project)
        .when({ kind: 'TransferProject', organizationId, projectId, ownerId: bob })
        .then([{ type: 'project.owner-changed', data: { organizationId, projectId, name: 'API', ownerId: bob, previousOwnerId: ann } }]);
    });
    it('refuses a new owner who is not a member (e.g. removed concurrently)', () => {
      const removed = ev('organization.member-removed', { userId: bob, username: 'bob', groupIds: [] });
      spec
        .given(...org, project, removed)
        .when({ kind: 'TransferProject', organizationId, projectId, ownerId: bob })
        .thenThrows('NOT_A_MEMBER');
    });
    it('does nothing when the owner stays the same', () =>
      spec
        .given(...org, project)
        .when({ kind: 'TransferProject', organizationId, projectId, ownerId: ann })
        .thenNothing());
    it('refuses an unknown project', () =>
      spec
        .given(...org)
        .when({ kind: 'TransferProject', organizationId, projectId, ownerId: bob })
        .thenThrows('NOT_FOUND'));
    it('deletes a project', () =>
      spec
        .given(...org, project)
        .when({ kind: 'DeleteProject', organizationId, projectId })
        .then([{ type: 'project.deleted', data: { organizationId, projectId, name: 'API' } }]));
    it('refuses deleting an unknown project', () =>
      spec
        .given(...org)
        .when({ kind: 'DeleteProject', organizationId, projectId })
        .thenThrows('NOT_FOUND'));
  });

  describe('ResetMemberPassword (identity resets it; the decision emits nothing)', () => {
    const reset = (userId: string): OrganizationCommand => ({ kind: 'ResetMemberPassword', organizationId, userId });
    it('a member, by someone holding everything they hold', () =>
      spec
        .given(...org, adminJoined)
        .when(reset(ann), as(admin))
        .thenNothing());
    it('an Owner only with organization.change_owner; someone holding more than the actor: refused', () => {
      spec
        .given(...org, adminJoined)
        .when(reset(ownerId), as(admin))
        .thenThrows('FORBIDDEN');
      spec
        .given(...org, adminJoined)
        .when(reset(admin), as(ann))
        .thenThrows('PRIVILEGE_ESCALATION');
    });
    it('a non-member: NOT_FOUND', () =>
      spec
        .given(...org)
        .when(reset(stranger), asOwner)
        .thenThrows('NOT_FOUND'));
  });

  describe('state', () => {
    it('member removal takes the user out of every group; the initial state is never changed', () => {
      const removed = ev('organization.member-removed', { userId: ann, username: 'ann', groupIds: [groupId] });
      const state = asStored([...org, group, removed])
        .map(catalogueEvent)
        .reduce(evolveOrganization, initialOrganizationState);
      expect(Object.fromEntries([...state.users.values()].map((u) => [u.id, u.username]))).toEqual({ [ownerId]: 'owner', [bob]: 'bob' });
      expect([...state.groups.get(groupId)!.members]).toEqual([]);
      expect(initialOrganizationState.users.size).toBe(0);
      expect(initialOrganizationState.exists).toBe(false);
      expect(organizationDecider.decide(create, initialOrganizationState, testMeta())).toHaveLength(2);
    });
  });
});
