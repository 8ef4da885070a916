import { natsOutcome, natsRequest } from '@app/testing';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { builtInRoleId, MembershipSubjects, systemMeta } from '@app/contracts';

const CHANGE_OWNER = 'organization.change_owner';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * The escalation holes of the security review, through the gateway (and one straight over NATS): putting
 * oneself in a group is a grant of the group's roles, a password reset is a take-over of the account, and a
 * role is changed only by someone who holds all of it. Each of these answered 2xx before the rules moved
 * into the grant rules (libs/access-model grants.ts), which membership's organization decider now applies to
 * every people-and-roles command, wherever it comes from (one test sends them straight over NATS).
 */
describe('escalation through groups, password resets and role edits', () => {
  let system: RunningSystem;
  let http: ReturnType<typeof request>;
  let nc: NatsConnection;
  const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const owner = auth(BOOTSTRAP_TOKEN);
  const api = (path: string) => `/api/v1${path}`;
  type User = { userId: string; username: string; headers: Record<string, string> };
  let org = '';
  let admin: User;
  let member: User;
  let olga: User;
  let roleManager: User;
  const role = (key: Parameters<typeof builtInRoleId>[1]) => builtInRoleId(org, key);

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  };

  async function account(username: string): Promise<User> {
    const res = await http
      .post(api(`/organizations/${org}/accounts`))
      .set(owner)
      .send({ accounts: [{ email: `${username}@example.com`, username }] })
      .expect(201);
    const created = res.body.created[0];
    const session = await http
      .post(api('/auth/password'))
      .send({ login: username, currentPassword: created.temporaryPassword, newPassword: `correct horse battery ${username}` })
      .expect(200);
    return { userId: created.userId, username, headers: auth(session.body.token) };
  }

  const permissionsOf = async (user: User): Promise<string[]> =>
    (
      await http
        .get(api(`/organizations/${org}/people/${user.userId}/permissions`))
        .set(owner)
        .expect(200)
    ).body.permissions.map((p: { name: string }) => p.name);

  beforeAll(async () => {
    system = await startSystem();
    http = request(system.baseUrl);
    nc = await connect({ servers: process.env.NATS_URL });
    org = (await http.post(api('/organizations')).set(owner).send({ name: 'Escalation Org' }).expect(201)).body.id;
    admin = await account('adam');
    member = await account('mona');
    olga = await account('olga');
    roleManager = await account('roman');
    await http
      .put(api(`/organizations/${org}/people/${admin.userId}/role`))
      .set(owner)
      .send({ roleId: role('admin') })
      .expect(200);
    await http
      .put(api(`/organizations/${org}/people/${olga.userId}/role`))
      .set(owner)
      .send({ roleId: role('owner') })
      .expect(200);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  it('an Admin cannot join, leave for others, or delete a group holding Owner; an Owner can', async () => {
    const group = (
      await http
        .post(api(`/organizations/${org}/groups`))
        .set(owner)
        .send({ name: 'Owners', description: '', memberIds: [] })
        .expect(201)
    ).body.id;
    await http
      .put(api(`/organizations/${org}/groups/${group}/role`))
      .set(owner)
      .send({ roleId: role('owner') })
      .expect(200);

    const join = await http
      .patch(api(`/organizations/${org}/groups/${group}`))
      .set(admin.headers)
      .send({ addMemberIds: [admin.userId] });
    expectProblem(join, 403, 'FORBIDDEN');
    expect(join.body.detail ?? join.body.message ?? '').toMatch(/organization\.change_owner/);
    expect(await permissionsOf(admin)).not.toContain('organization.delete');
    // and the Admin cannot then make themself Owner
    expectProblem(
      await http
        .put(api(`/organizations/${org}/people/${admin.userId}/role`))
        .set(admin.headers)
        .send({ roleId: role('owner') }),
      403,
      'FORBIDDEN',
    );

    await http
      .patch(api(`/organizations/${org}/groups/${group}`))
      .set(owner)
      .send({ addMemberIds: [member.userId] })
      .expect(200);
    expect(await permissionsOf(member)).toContain('organization.delete');
    expectProblem(
      await http
        .patch(api(`/organizations/${org}/groups/${group}`))
        .set(admin.headers)
        .send({ removeMemberIds: [member.userId] }),
      403,
      'FORBIDDEN',
    );
    expectProblem(await http.delete(api(`/organizations/${org}/groups/${group}`)).set(admin.headers), 403, 'FORBIDDEN');
    // renaming changes no grant
    await http
      .patch(api(`/organizations/${org}/groups/${group}`))
      .set(admin.headers)
      .send({ name: 'Owners group' })
      .expect(200);
    await http
      .patch(api(`/organizations/${org}/groups/${group}`))
      .set(owner)
      .send({ removeMemberIds: [member.userId] })
      .expect(200);
    expect(await permissionsOf(member)).not.toContain('organization.delete');
    await http
      .delete(api(`/organizations/${org}/groups/${group}`))
      .set(owner)
      .expect(204);
  });

  it('a Member put in a group holding a custom role with permissions the Admin lacks: refused for the Admin, allowed for the Owner', async () => {
    const deleter = (
      await http
        .post(api(`/organizations/${org}/roles`))
        .set(owner)
        .send({ name: 'Deleter', description: '', scope: 'organization', permissions: ['organization.delete'] })
        .expect(201)
    ).body.id;
    const group = (
      await http
        .post(api(`/organizations/${org}/groups`))
        .set(owner)
        .send({ name: 'Deleters', description: '', memberIds: [] })
        .expect(201)
    ).body.id;
    await http
      .put(api(`/organizations/${org}/groups/${group}/role`))
      .set(owner)
      .send({ roleId: deleter })
      .expect(200);
    // binding the role to the Member directly was already refused; through the group it is now too
    expectProblem(
      await http
        .put(api(`/organizations/${org}/people/${member.userId}/role`))
        .set(admin.headers)
        .send({ roleId: deleter }),
      403,
      'PRIVILEGE_ESCALATION',
    );
    const res = await http
      .patch(api(`/organizations/${org}/groups/${group}`))
      .set(admin.headers)
      .send({ addMemberIds: [member.userId] });
    expectProblem(res, 403, 'PRIVILEGE_ESCALATION');
    expect(res.body.permissions ?? res.body.details?.permissions).toEqual(['organization.delete']);
    expect(await permissionsOf(member)).not.toContain('organization.delete');
    await http
      .patch(api(`/organizations/${org}/groups/${group}`))
      .set(owner)
      .send({ addMemberIds: [member.userId] })
      .expect(200);
    expect(await permissionsOf(member)).toContain('organization.delete');
    await http
      .patch(api(`/organizations/${org}/groups/${group}`))
      .set(owner)
      .send({ removeMemberIds: [member.userId] })
      .expect(200);
  });

  it('an Admin cannot reset the password of an Owner, nor of someone holding what the Admin lacks; the Owner can', async () => {
    expectProblem(await http.post(api(`/organizations/${org}/people/${olga.userId}/password`)).set(admin.headers), 403, 'FORBIDDEN');
    // olga's password still works
    await http.post(api('/auth/login')).send({ login: 'olga', password: 'correct horse battery olga' }).expect(200);
    // a Member can be reset by the Admin, the Admin by the Owner
    await http
      .post(api(`/organizations/${org}/people/${member.userId}/password`))
      .set(admin.headers)
      .expect(200);
    await http
      .post(api(`/organizations/${org}/people/${admin.userId}/password`))
      .set(owner)
      .expect(200);
  });

  it('a holder of custom_roles.manage cannot take away (or add) permissions of a role they do not fully hold', async () => {
    const manager = (
      await http
        .post(api(`/organizations/${org}/roles`))
        .set(owner)
        .send({
          name: 'Role manager',
          description: '',
          scope: 'organization',
          permissions: ['organization.custom_roles.view', 'organization.custom_roles.manage', 'organization.people.view'],
        })
        .expect(201)
    ).body.id;
    await http
      .put(api(`/organizations/${org}/people/${roleManager.userId}/role`))
      .set(owner)
      .send({ roleId: manager })
      .expect(200);
    const strong = (
      await http
        .post(api(`/organizations/${org}/roles`))
        .set(owner)
        .send({ name: 'Strong', description: '', scope: 'organization', permissions: ['organization.delete', 'organization.people.view'] })
        .expect(201)
    ).body.id;
    const res = await http
      .patch(api(`/organizations/${org}/roles/${strong}`))
      .set(roleManager.headers)
      .send({ permissions: ['organization.people.view'] });
    expectProblem(res, 403, 'PRIVILEGE_ESCALATION');
    expect(
      (
        await http
          .get(api(`/organizations/${org}/roles/${strong}`))
          .set(owner)
          .expect(200)
      ).body.permissions,
    ).toContain('organization.delete');
    expectProblem(await http.delete(api(`/organizations/${org}/roles/${strong}`)).set(roleManager.headers), 403, 'PRIVILEGE_ESCALATION');
    // a role they hold entirely: allowed, name and description too
    const weak = (
      await http
        .post(api(`/organizations/${org}/roles`))
        .set(roleManager.headers)
        .send({ name: 'Weak', description: '', scope: 'organization', permissions: ['organization.people.view'] })
        .expect(201)
    ).body.id;
    await http
      .patch(api(`/organizations/${org}/roles/${weak}`))
      .set(roleManager.headers)
      .send({ permissions: [] })
      .expect(200);
    await http
      .patch(api(`/organizations/${org}/roles/${strong}`))
      .set(roleManager.headers)
      .send({ description: 'renaming needs no permission of the role' })
      .expect(200);
  });

  it('the Owner rule holds for a command sent straight over NATS, without the gateway', async () => {
    const probe = await account('paula');
    await http
      .delete(api(`/organizations/${org}/people/${probe.userId}`))
      .set(owner)
      .expect(204);
    const meta = { ...systemMeta(randomUUID()), actor: { id: admin.userId, username: admin.username }, medium: 'api' as const };
    const subject = MembershipSubjects.addPeople();
    const body = { organizationId: org, handles: ['paula'], roleId: role('owner') };
    expect(await natsOutcome(nc, subject, body, { meta })).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expectProblem(await http.get(api(`/organizations/${org}/people/${probe.userId}/permissions`)).set(owner), 404, 'NOT_FOUND');
  });

  it('the Owner and grant rules hold for every people-and-roles command sent straight over NATS (decided by membership, not the gateway)', async () => {
    const as = async (user: { userId: string; username: string }, subject: string, body: Record<string, unknown>) => {
      const meta = { ...systemMeta(randomUUID()), actor: { id: user.userId, username: user.username }, medium: 'api' as const };
      const outcome = await natsOutcome(nc, subject, { organizationId: org, ...body }, { meta });
      return outcome.ok ? 'ok' : outcome.code;
    };
    const bind = (actor: User, subjectId: string, roleId: string, projectId: string | null = null, subjectType = 'user') =>
      as(actor, MembershipSubjects.assignRole(), { subjectType, subjectId, projectId, roleId });
    const ownerUser = { userId: (await http.get(api('/me')).set(owner).expect(200)).body.id as string, username: 'admin', headers: owner };
    const project = (
      await http
        .post(api(`/organizations/${org}/projects`))
        .set(owner)
        .send({ name: 'nats-direct' })
        .expect(201)
    ).body.id;
    const owners = (
      await http
        .post(api(`/organizations/${org}/groups`))
        .set(owner)
        .send({ name: 'Owners over NATS', description: '', memberIds: [] })
        .expect(201)
    ).body.id;
    await http
      .put(api(`/organizations/${org}/groups/${owners}/role`))
      .set(owner)
      .send({ roleId: role('owner') })
      .expect(200);

    // giving or taking Owner, removing or taking over an Owner: organization.change_owner, which an Admin lacks
    expect(await bind(admin, admin.userId, role('owner'))).toBe('FORBIDDEN');
    expect(await bind(admin, olga.userId, role('admin'))).toBe('FORBIDDEN');
    expect(await as(admin, MembershipSubjects.removePerson(), { userId: olga.userId })).toBe('OWNER_PROTECTED');
    expect(await as(admin, MembershipSubjects.updateGroup(), { groupId: owners, addMemberIds: [admin.userId] })).toBe('FORBIDDEN');
    expect(await as(admin, MembershipSubjects.deleteGroup(), { groupId: owners })).toBe('FORBIDDEN');
    expect(await as(admin, MembershipSubjects.resetPassword(), { userId: olga.userId })).toBe('FORBIDDEN');
    // nothing beyond what the actor holds: a Member binding Admin, or a project role without it in the project
    expect(await bind(member, member.userId, role('admin'))).toBe('PRIVILEGE_ESCALATION');
    expect(await bind(member, member.userId, role('project-reader'), project)).toBe('PRIVILEGE_ESCALATION');
    expect(await as(member, MembershipSubjects.addPeople(), { handles: ['roman'], roleId: role('admin') })).toBe('PRIVILEGE_ESCALATION');
    expect(await as(member, MembershipSubjects.resetPassword(), { userId: admin.userId })).toBe('PRIVILEGE_ESCALATION');
    // the last user holding Owner directly keeps it, whoever asks
    expect(await bind(ownerUser, olga.userId, role('admin'))).toBe('ok');
    expect(await bind(ownerUser, ownerUser.userId, role('admin'))).toBe('LAST_OWNER');
    expect(await bind(ownerUser, olga.userId, role('owner'))).toBe('ok');
    // malformed commands: a clear 4xx code, nothing decided
    expect(await bind(ownerUser, olga.userId, role('admin'), null, 'robot')).toBe('VALIDATION_FAILED');
    expect(await bind(ownerUser, 'not-a-uuid', role('admin'))).toBe('VALIDATION_FAILED');
    expect(await as(ownerUser, MembershipSubjects.unassignRole(), { projectId: project, subjectId: 42 })).toBe('VALIDATION_FAILED');
    // what was refused changed nothing
    expect(await permissionsOf(admin)).not.toContain(CHANGE_OWNER);
    expect(await permissionsOf(member)).not.toContain('organization.people.manage');
    expect(await permissionsOf(olga)).toContain(CHANGE_OWNER);
    await http.post(api('/auth/login')).send({ login: 'olga', password: 'correct horse battery olga' }).expect(200);
  });

  it('a command without a command id or an actor is refused before any handler runs; two copies of one command make one organization', async () => {
    const subject = MembershipSubjects.createOrganization();
    for (const meta of [null, { actor: { id: admin.userId } }, { commandId: randomUUID() }])
      expect(await natsOutcome(nc, subject, { name: 'No Meta' }, { meta })).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    // two copies of one command at once (a retry while the first is still running) decide on the same organization
    const meta = { ...systemMeta(randomUUID()), actor: { id: admin.userId, username: admin.username }, medium: 'api' as const };
    const send = () => natsRequest<{ id: string }>(nc, subject, { name: 'Twice Corp' }, { meta });
    const replies = await Promise.all([send(), send()]);
    expect(replies[0].id).toBe(replies[1].id);
    // nothing claimed the slug
    expect((await http.post(api('/organizations')).set(owner).send({ name: 'No Meta' }).expect(201)).body.slug).toBe('no-meta');
  });
});
