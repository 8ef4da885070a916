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
import { INFRA, type Infrastructure } from '@app/platform';
import { runOrganization, withToken } from '../../organization/organization-command.runner';
import { callService } from '../../common/rpc';

/** Adds existing users by handle: usernames exactly as written (case included), emails regardless of case. */
export async function addPeople(infra: Infrastructure, req: AddPeopleRequest, meta: CommandMeta): Promise<AddPeopleReply> {
  const found = await callService<FindUsersReply>(infra, IdentitySubjects.findUsers(), { handles: req.handles }, meta);
  const result = await runOrganization(
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
  return withToken(req.organizationId, result.version, {
    added,
    notFound: found.notFound,
    alreadyMembers: [...new Set(found.found.filter((f) => !addedIds.has(f.userId)).map((f) => f.handle))],
  });
}

@Controller()
export class AddPeopleController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(MembershipSubjects.addPeople())
  add(@Payload() m: Message<AddPeopleRequest>): Promise<AddPeopleReply> {
    return addPeople(this.infra, m.body, m.meta);
  }
}
