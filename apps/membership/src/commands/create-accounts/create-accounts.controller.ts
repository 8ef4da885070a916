import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IdentitySubjects,
  MembershipSubjects,
  type CommandMeta,
  type CreateAccountsReply,
  type CreateMemberAccountsRequest,
  type Message,
} from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { runOrganization, withToken } from '../../organization/organization-command.runner';
import { callService } from '../../common/rpc';

/** Identity creates the accounts (managed by this organization); they and the existing users join. */
export async function createAccounts(infra: Infrastructure, req: CreateMemberAccountsRequest, meta: CommandMeta): Promise<CreateAccountsReply> {
  // the role is decided (AddMembers of nobody) before any account exists, so a refusal leaves nothing behind
  await runOrganization(infra, { kind: 'AddMembers', organizationId: req.organizationId, users: [], roleId: req.roleId, via: 'account' }, meta);
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
  const joined = await runOrganization(infra, { kind: 'AddMembers', organizationId: req.organizationId, users, roleId: req.roleId, via: 'account' }, meta);
  return withToken(req.organizationId, joined.version, { created: reply.created, existing: reply.existing.map((e) => ({ userId: e.userId, email: e.email })) });
}

@Controller()
export class CreateAccountsController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(MembershipSubjects.createAccounts())
  create(@Payload() m: Message<CreateMemberAccountsRequest>): Promise<CreateAccountsReply> {
    return createAccounts(this.infra, m.body, m.meta);
  }
}
