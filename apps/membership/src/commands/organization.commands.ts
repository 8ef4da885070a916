import {
  builtInRoleId,
  checkText,
  Description,
  DomainError,
  EntityName,
  ErrorCode,
  IdentitySubjects,
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
  type FindUsersReply,
  type GroupView,
  type NewEvent,
  type OrganizationView,
  type ProjectView,
  type ResetPasswordReply,
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

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const invalid = (message: string) => new DomainError(ErrorCode.VALIDATION_FAILED, message);
const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);
function requireUuids(...values: unknown[]): void {
  if (!values.every(isUuid)) throw new DomainError(ErrorCode.NOT_FOUND, 'not found');
}
/** A name (organization, group, project) or a description as libs/contracts/src/fields.ts defines them (its limits are the kind's). */
function text(value: unknown, field: 'name' | 'description', _max?: number, _min?: number): string {
  const r = checkText(field === 'description' ? Description : EntityName, value, field);
  if (r.problem !== null) throw invalid(r.problem);
  return r.value;
}
function uuidList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 1000 || !value.every(isUuid)) throw invalid(`${field} must be a list of user ids`);
  return value;
}

/**
 * Runs a command on the organization's stream: every rule, the grants included, is the decider's. A command id
 * that already ran is not decided again: it gets its first outcome, even if what the actor may do has changed.
 */
function run<R>(infra: Infrastructure, command: OrganizationCommand, meta: CommandMeta, reply?: (events: NewEvent[], state: OrganizationState) => R) {
  return runOrganizationCommand<R>(organizationDeps(infra), command, meta, reply);
}

export async function createOrganization(infra: Infrastructure, req: CreateOrganizationRequest, meta: CommandMeta): Promise<OrganizationView> {
  const name = text(req?.name, 'name', 100);
  const slug = req.slug === undefined ? slugify(name) : req.slug;
  if (typeof slug !== 'string' || !SLUG_PATTERN.test(slug)) throw invalid('slug must be lowercase letters, digits and "-" (1 to 50)');
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
  requireUuids(req?.organizationId);
  if (
    !Array.isArray(req.handles) ||
    req.handles.length === 0 ||
    req.handles.length > 500 ||
    !req.handles.every((h) => typeof h === 'string' && h.length >= 1 && h.length <= 320)
  )
    throw invalid('handles must be 1 to 500 usernames or emails');
  if (req.roleId !== undefined && !isUuid(req.roleId)) throw invalid('roleId must be a role id');
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
    (events) => events.map((e) => ({ userId: e.data.userId as string, username: e.data.username as string })),
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
  requireUuids(req?.organizationId);
  if (req.roleId !== undefined && !isUuid(req.roleId)) throw invalid('roleId must be a role id');
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
export async function removePerson(infra: Infrastructure, req: { organizationId: string; userId: string }, meta: CommandMeta): Promise<Record<string, never>> {
  requireUuids(req?.organizationId, req?.userId);
  await run(infra, { kind: 'RemoveMember', organizationId: req.organizationId, userId: req.userId }, meta);
  return {};
}

/**
 * Only for members of this organization, and only by someone holding everything the person holds (the
 * temporary password hands the account over: the decider's ResetMemberPassword); identity refuses accounts it
 * did not create (NOT_MANAGED_ACCOUNT).
 */
export async function resetMemberPassword(
  infra: Infrastructure,
  req: { organizationId: string; userId: string },
  meta: CommandMeta,
): Promise<ResetPasswordReply> {
  requireUuids(req?.organizationId, req?.userId);
  await run(infra, { kind: 'ResetMemberPassword', organizationId: req.organizationId, userId: req.userId }, meta);
  return callService<ResetPasswordReply>(infra, IdentitySubjects.resetPassword(), { organizationId: req.organizationId, userId: req.userId }, meta);
}

function requireBodyUuids(fields: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(fields)) if (!isUuid(value)) throw invalid(`${name} must be a UUID`);
}

/** A user's or group's organization role, or its role in a project (the gateway has checked the route's permission). */
export async function assignRole(infra: Infrastructure, req: AssignRoleRequest, meta: CommandMeta): Promise<BindingView> {
  requireBodyUuids({ organizationId: req?.organizationId, subjectId: req?.subjectId, roleId: req?.roleId });
  if (req.subjectType !== 'user' && req.subjectType !== 'group') throw invalid('subjectType must be user or group');
  const projectId = req.projectId ? req.projectId.toLowerCase() : null;
  if (projectId !== null && !isUuid(projectId)) throw invalid('projectId must be a UUID');
  const command = {
    kind: 'AssignRole' as const,
    organizationId: req.organizationId.toLowerCase(),
    subjectType: req.subjectType,
    subjectId: req.subjectId.toLowerCase(),
    projectId,
    roleId: req.roleId.toLowerCase(),
  };
  const result = await run(infra, command, meta, (events, state) => ({
    subjectType: command.subjectType,
    subjectId: command.subjectId,
    projectId,
    role: { id: command.roleId, name: (events[0]?.data.roleName as string | undefined) ?? state.roles.get(command.roleId)?.name ?? '' },
  }));
  return result.reply;
}

/** A user or group loses the role bound to it on a project. */
export async function unassignRole(infra: Infrastructure, req: UnassignRoleRequest, meta: CommandMeta): Promise<Record<string, never>> {
  requireBodyUuids({ organizationId: req?.organizationId, projectId: req?.projectId, subjectId: req?.subjectId });
  await run(
    infra,
    { kind: 'UnassignRole', organizationId: req.organizationId.toLowerCase(), projectId: req.projectId.toLowerCase(), subjectId: req.subjectId.toLowerCase() },
    meta,
  );
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
  requireUuids(req?.organizationId);
  const name = text(req.name, 'name', 100);
  const description = typeof req.description === 'string' && req.description.length <= 1000 ? req.description : '';
  const memberIds = uuidList(req.memberIds, 'memberIds');
  const groupId = stableUuid(`group:${meta.commandId}`);
  const result = await run(
    infra,
    { kind: 'CreateGroup', organizationId: req.organizationId, groupId, name, description, memberIds },
    meta,
    (events) => events[0]?.data.groupId as string,
  );
  const id = result.reply ?? groupId;
  return groupViewOf(result.state, id, { id: builtInRoleId(req.organizationId, 'member'), name: 'Member' });
}

export async function updateGroup(infra: Infrastructure, req: UpdateGroupRequest, meta: CommandMeta): Promise<GroupView> {
  requireUuids(req?.organizationId, req?.groupId);
  const result = await run(
    infra,
    {
      kind: 'UpdateGroup',
      organizationId: req.organizationId,
      groupId: req.groupId,
      name: req.name === undefined ? undefined : text(req.name, 'name', 100),
      description: req.description === undefined ? undefined : text(req.description, 'description', 1000, 0),
      addMemberIds: uuidList(req.addMemberIds, 'addMemberIds'),
      removeMemberIds: uuidList(req.removeMemberIds, 'removeMemberIds'),
    },
    meta,
  );
  if (!result.state.groups.has(req.groupId)) throw new DomainError(ErrorCode.NOT_FOUND, 'group not found');
  return groupViewOf(result.state, req.groupId, groupRole(result.state, req.groupId));
}

export async function deleteGroup(infra: Infrastructure, req: { organizationId: string; groupId: string }, meta: CommandMeta): Promise<Record<string, never>> {
  requireUuids(req?.organizationId, req?.groupId);
  await run(infra, { kind: 'DeleteGroup', organizationId: req.organizationId, groupId: req.groupId }, meta);
  return {};
}

export async function createProject(infra: Infrastructure, req: CreateProjectRequest, meta: CommandMeta): Promise<ProjectView> {
  requireUuids(req?.organizationId);
  const name = text(req.name, 'name', 100);
  const projectId = stableUuid(`project:${meta.commandId}`);
  const result = await run(
    infra,
    { kind: 'CreateProject', organizationId: req.organizationId, projectId, name, ownerId: meta.actor.id },
    meta,
    (events) => events[0]?.data.projectId as string,
  );
  const p = result.state.projects.get(result.reply ?? projectId)!;
  return { id: p.id, name: p.name, ownerId: p.ownerId };
}

export async function transferProject(
  infra: Infrastructure,
  req: { organizationId: string; projectId: string; userId: string },
  meta: CommandMeta,
): Promise<ProjectView> {
  requireUuids(req?.organizationId, req?.projectId);
  if (!isUuid(req.userId)) throw invalid('userId must be a user id');
  const result = await run(infra, { kind: 'TransferProject', organizationId: req.organizationId, projectId: req.projectId, ownerId: req.userId }, meta);
  const p = result.state.projects.get(req.projectId);
  if (!p) throw new DomainError(ErrorCode.NOT_FOUND, 'project not found');
  return { id: p.id, name: p.name, ownerId: p.ownerId };
}

export async function deleteProject(
  infra: Infrastructure,
  req: { organizationId: string; projectId: string },
  meta: CommandMeta,
): Promise<Record<string, never>> {
  requireUuids(req?.organizationId, req?.projectId);
  await run(infra, { kind: 'DeleteProject', organizationId: req.organizationId, projectId: req.projectId }, meta);
  return {};
}
