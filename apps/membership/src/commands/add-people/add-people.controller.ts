import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IdentitySubjects,
  isNewEvent,
  MembershipSubjects,
  OrganizationMemberAdded,
  type AddPeopleReply,
  type AddPeopleRequest,
  type CommandMeta,
  type FindUsersReply,
  type Message,
} from '@app/contracts';
import type { NatsConnection } from 'nats';
import { NATS_CONNECTION } from '@app/platform';
import { withToken } from '../../organization/organization-command.runner';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';
import { callService } from '../../common/rpc';

/** Adds existing users by handle: usernames exactly as written (case included), emails regardless of case. */
export async function addPeople(
  deps: { organizations: OrganizationDeps; nc: NatsConnection },
  req: AddPeopleRequest,
  meta: CommandMeta,
): Promise<AddPeopleReply> {
  const found = await callService<FindUsersReply>(deps, IdentitySubjects.findUsers(), { handles: req.handles }, meta);
  const result = await runOrganizationCommand(
    deps.organizations,
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
  return withToken(req.organizationId, result.version, {
    added,
    notFound: found.notFound,
    alreadyMembers: [...new Set(found.found.filter((f) => !addedIds.has(f.userId)).map((f) => f.handle))],
  });
}

@Controller()
export class AddPeopleController {
  constructor(
    @Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @MessagePattern(MembershipSubjects.addPeople())
  add(@Payload() m: Message<AddPeopleRequest>): Promise<AddPeopleReply> {
    return addPeople({ organizations: this.organizations, nc: this.nc }, m.body, m.meta);
  }
}
