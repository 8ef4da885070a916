import {
  builtInRoleId,
  DomainError,
  ErrorCode,
  GroupCreated,
  IdentitySubjects,
  isNewEvent,
  OrganizationMemberAdded,
  ProjectCreated,
  RoleAssigned,
  SLUG_PATTERN,
  slugify,
  stableUuid,
  type AddPeopleReply,
  type AddPeopleRequest,
  type AssignRoleRequest,
  type BindingView,
  type CommandMeta,
  type CreateAccountsReply,
  type CreateGroupRequest,
  type CreateMemberAccountsRequest,
  type CreateOrganizationRequest,
  type CreateProjectRequest,
  type DeleteGroupRequest,
  type DeleteProjectRequest,
  type FindUsersReply,
  type GroupView,
  type NewEvent,
  type OrganizationView,
  type ProjectView,
  type RemovePersonRequest,
  type ResetMemberPasswordRequest,
  type ResetPasswordReply,
  type TransferProjectRequest,
  type UnassignRoleRequest,
  type UpdateGroupRequest,
} from '@app/contracts';
import type { Infrastructure } from '@app/platform';
import type { OrganizationCommand } from '../organization/organization.decider';
import { earlierCommit, runOrganizationCommand } from '../organization/organization.repository';
import { organizationDeps } from '../organization/organization.deps';
import type { OrganizationState } from '../organization/organization.state';
import { callService } from '../common/rpc';
import { builtInRoleName } from '../people/people.model';

/*
 * Every request arrives checked and normalized against its schema (libs/contracts/src/membership/messages.ts:
 * ids lower-cased, names and descriptions as fields.ts defines them) by the messaging guard; what is left here
 * is what the request alone cannot tell.
 */

/**
 * Runs a command on the organization's stream: every rule, the grants included, is the decider's. A command id
 * that already ran is not decided again: it gets its first outcome, even if what the actor may do has changed.
 */
function run<R>(infra: Infrastructure, command: OrganizationCommand, meta: CommandMeta, reply?: (events: NewEvent[], state: OrganizationState) => R) {
  return runOrganizationCommand<R>(organizationDeps(infra), command, meta, reply);
}

export async function createOrganization(infra: Infrastructure, req: CreateOrganizationRequest, meta: CommandMeta): Promise<OrganizationView> {
  const name = req.name;
  const slug = req.slug ?? slugify(name);
  // a slug made of the name may still be unfit (a name of symbols only): the contract checks only one given
  if (!SLUG_PATTERN.test(slug)) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'slug must be lowercase letters, digits and "-" (1 to 50)');
  if (!meta.actor.id || meta.actor.id === 'anonymous') throw new DomainError(ErrorCode.UNAUTHENTICATED, 'a user must create the organization');
  // a retried command (same id, e.g. a gateway that died mid-request) gets its first outcome
  const earlier = await earlierCommit(organizationDeps(infra), meta.commandId);
  if (earlier) return earlier.reply as OrganizationView;
  // ids derive from the command id: a copy of the command that runs while the first is still in progress
  // (a client retrying with the same Idempotency-Key) decides on the same organization, group or project
  const organizationId = stableUuid(`organization:${meta.commandId}`);
  if (!(await infra.reservations.claim('slug', slug, organizationId))) throw new DomainError(ErrorCode.SLUG_TAKEN, `the slug ${slug} is taken`, { slug });
  try {
    await run(
      infra,
      {
        kind: 'CreateOrganization',
        organizationId,
        name,
        slug,
        ownerId: meta.actor.id,
        ownerUsername: meta.actor.username ?? meta.actor.id,
        via: 'creator',
      },
      meta,
      () => ({ id: organizationId, name, slug }),
    );
  } catch (err) {
    await infra.reservations.release('slug', slug, organizationId);
    throw err;
  }
  await infra.reservations.confirm('slug', slug, organizationId);
  return { id: organizationId, name, slug };
}

/** Adds existing users by handle: usernames exactly as written (case included), emails regardless of case. */
export async function addPeople(infra: Infrastructure, req: AddPeopleRequest, meta: CommandMeta): Promise<AddPeopleReply> {
  const found = await callService<FindUsersReply>(infra, IdentitySubjects.findUsers(), { handles: req.handles }, meta);
  const result = await run(
    infra,
    {
      kind: 'AddMembers',
      organizationId: req.organizationId,
      users: found.found.map((f) => ({ userId: f.userId, username: f.username })),
      roleId: req.roleId,
      via: 'invite',
    },
    meta,
    (events) => events.flatMap((e) => (isNewEvent(e, OrganizationMemberAdded) ? [{ userId: e.data.userId, username: e.data.username }] : [])),
  );
  const added = result.reply;
  const addedIds = new Set(added.map((a) => a.userId));
  return {
    added,
    notFound: found.notFound,
    alreadyMembers: [...new Set(found.found.filter((f) => !addedIds.has(f.userId)).map((f) => f.handle))],
  };
}

/** Identity creates the accounts (managed by this organization); they and the existing users join. */
export async function createAccounts(infra: Infrastructure, req: CreateMemberAccountsRequest, meta: CommandMeta): Promise<CreateAccountsReply> {
  // the role is decided (AddMembers of nobody) before any account exists, so a refusal leaves nothing behind
  await run(infra, { kind: 'AddMembers', organizationId: req.organizationId, users: [], roleId: req.roleId, via: 'account' }, meta);
  // One batch in identity (docs/membership.md "Accounts"): a few seconds for 500 accounts. The long wait is
  // for a busy machine: this handler outlives the gateway's 60 s, so the accounts still join when the client
  // has given up. Run again under the same command id (a retry under the same Idempotency-Key), identity
  // returns the same accounts (with the gateway's password seed, the same temporary passwords) and
  // AddMembers appends nothing twice.
  const reply = await callService<CreateAccountsReply>(
    infra,
    IdentitySubjects.createAccounts(),
    { organizationId: req.organizationId, accounts: req.accounts, ...(req.passwordSeed === undefined ? {} : { passwordSeed: req.passwordSeed }) },
    meta,
    120_000,
  );
  const users = [...reply.created, ...reply.existing].flatMap((u) => (u.username ? [{ userId: u.userId, username: u.username }] : []));
  await run(infra, { kind: 'AddMembers', organizationId: req.organizationId, users, roleId: req.roleId, via: 'account' }, meta);
  return { created: reply.created, existing: reply.existing.map((e) => ({ userId: e.userId, email: e.email })) };
}

/** Owners (OWNER_PROTECTED) come from the bindings on the same stream: no window for a concurrent "make X Owner". */
export async function removePerson(infra: Infrastructure, req: RemovePersonRequest, meta: CommandMeta): Promise<Record<string, never>> {
  await run(infra, { kind: 'RemoveMember', organizationId: req.organizationId, userId: req.userId }, meta);
  return {};
}

/**
 * Only for members of this organization, and only by someone holding everything the person holds (the
 * temporary password hands the account over: the decider's ResetMemberPassword); identity refuses accounts it
 * did not create (NOT_MANAGED_ACCOUNT).
 */
export async function resetMemberPassword(infra: Infrastructure, req: ResetMemberPasswordRequest, meta: CommandMeta): Promise<ResetPasswordReply> {
  await run(infra, { kind: 'ResetMemberPassword', organizationId: req.organizationId, userId: req.userId }, meta);
  return callService<ResetPasswordReply>(infra, IdentitySubjects.resetPassword(), { organizationId: req.organizationId, userId: req.userId }, meta);
}

const roleNameOf = (e: NewEvent | undefined): string | undefined => (e && isNewEvent(e, RoleAssigned) ? e.data.roleName : undefined);

/** A user's or group's organization role, or its role in a project (the gateway has checked the route's permission). */
export async function assignRole(infra: Infrastructure, req: AssignRoleRequest, meta: CommandMeta): Promise<BindingView> {
  const projectId = req.projectId ?? null;
  const command = {
    kind: 'AssignRole' as const,
    organizationId: req.organizationId,
    subjectType: req.subjectType,
    subjectId: req.subjectId,
    projectId,
    roleId: req.roleId,
  };
  const result = await run(infra, command, meta, (events, state) => ({
    subjectType: command.subjectType,
    subjectId: command.subjectId,
    projectId,
    role: { id: command.roleId, name: roleNameOf(events[0]) ?? state.roles.get(command.roleId)?.name ?? '' },
  }));
  return result.reply;
}

/** A user or group loses the role bound to it on a project. */
export async function unassignRole(infra: Infrastructure, req: UnassignRoleRequest, meta: CommandMeta): Promise<Record<string, never>> {
  await run(infra, { kind: 'UnassignRole', organizationId: req.organizationId, projectId: req.projectId, subjectId: req.subjectId }, meta);
  return {};
}

/** The group's organization role, from the state (a custom role's name is authorization's: not looked up here). */
function groupRole(state: OrganizationState, groupId: string): { id: string; name: string } {
  const id = state.groups.get(groupId)?.orgRole ?? state.memberRoleId;
  return { id, name: builtInRoleName(state.id, id) ?? 'Custom role' };
}

function groupViewOf(state: OrganizationState, groupId: string, role: { id: string; name: string }): GroupView {
  const g = state.groups.get(groupId)!;
  return { id: g.id, name: g.name, description: g.description, memberIds: [...g.members], role };
}

export async function createGroup(infra: Infrastructure, req: CreateGroupRequest, meta: CommandMeta): Promise<GroupView> {
  const { name, description = '', memberIds = [] } = req;
  const groupId = stableUuid(`group:${meta.commandId}`);
  const result = await run(
    infra,
    { kind: 'CreateGroup', organizationId: req.organizationId, groupId, name, description, memberIds },
    meta,
    (events) => events.find((e) => isNewEvent(e, GroupCreated))?.data.groupId,
  );
  const id = result.reply ?? groupId;
  return groupViewOf(result.state, id, { id: builtInRoleId(req.organizationId, 'member'), name: 'Member' });
}

export async function updateGroup(infra: Infrastructure, req: UpdateGroupRequest, meta: CommandMeta): Promise<GroupView> {
  const result = await run(
    infra,
    {
      kind: 'UpdateGroup',
      organizationId: req.organizationId,
      groupId: req.groupId,
      name: req.name,
      description: req.description,
      addMemberIds: req.addMemberIds ?? [],
      removeMemberIds: req.removeMemberIds ?? [],
    },
    meta,
  );
  if (!result.state.groups.has(req.groupId)) throw new DomainError(ErrorCode.NOT_FOUND, 'group not found');
  return groupViewOf(result.state, req.groupId, groupRole(result.state, req.groupId));
}

export async function deleteGroup(infra: Infrastructure, req: DeleteGroupRequest, meta: CommandMeta): Promise<Record<string, never>> {
  await run(infra, { kind: 'DeleteGroup', organizationId: req.organizationId, groupId: req.groupId }, meta);
  return {};
}

export async function createProject(infra: Infrastructure, req: CreateProjectRequest, meta: CommandMeta): Promise<ProjectView> {
  const { name } = req;
  const projectId = stableUuid(`project:${meta.commandId}`);
  const result = await run(
    infra,
    { kind: 'CreateProject', organizationId: req.organizationId, projectId, name, ownerId: meta.actor.id },
    meta,
    (events) => events.find((e) => isNewEvent(e, ProjectCreated))?.data.projectId,
  );
  const p = result.state.projects.get(result.reply ?? projectId)!;
  return { id: p.id, name: p.name, ownerId: p.ownerId };
}

export async function transferProject(infra: Infrastructure, req: TransferProjectRequest, meta: CommandMeta): Promise<ProjectView> {
  const result = await run(infra, { kind: 'TransferProject', organizationId: req.organizationId, projectId: req.projectId, ownerId: req.userId }, meta);
  const p = result.state.projects.get(req.projectId);
  if (!p) throw new DomainError(ErrorCode.NOT_FOUND, 'project not found');
  return { id: p.id, name: p.name, ownerId: p.ownerId };
}

export async function deleteProject(infra: Infrastructure, req: DeleteProjectRequest, meta: CommandMeta): Promise<Record<string, never>> {
  await run(infra, { kind: 'DeleteProject', organizationId: req.organizationId, projectId: req.projectId }, meta);
  return {};
}
