import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  accountBatchTimeoutMs,
  MembershipSubjects,
  temporaryPasswordSeed,
  type AddPeopleReply,
  type CreateAccountsReply,
  type OrganizationView,
  type Page,
  type ResetPasswordReply,
} from '@app/contracts';
import { AnyUser, RequirePermission } from '../auth/permission.decorator';
import { VERIFIED_TOKENS, type VerifiedTokens } from '../auth/verified-tokens';
import { JSON_CONTENT_TYPE, ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
import { PageQuery } from '../common/page.dto';
import { optionalRoleIdOf } from '../common/role-ref';
import {
  AddPeopleDto,
  AddPeopleResponse,
  CreateAccountsDto,
  CreateAccountsResponse,
  CreateOrganizationDto,
  ListPeopleQuery,
  OrganizationPage,
  OrganizationResponse,
  PeoplePage,
  TemporaryPasswordResponse,
} from './organizations.dto';

/** `id` next to `userId` in the items of account and people replies: the same name as in every list (docs/api.md "One name per concept"). */
const withId = <T extends { userId: string }>(item: T): T & { id: string } => ({ id: item.userId, ...item });

@ApiTags('organizations and people')
@ApiBearerAuth()
@Controller('organizations')
export class OrganizationsController {
  constructor(
    private readonly services: ServicesClient,
    @Inject(VERIFIED_TOKENS) private readonly verified: VerifiedTokens,
  ) {}

  @ApiOperation({ operationId: 'createOrganization', summary: 'Create an organization (you become its Owner)' })
  @Post()
  @AnyUser()
  @ApiCreatedResponse({ type: OrganizationResponse, description: 'the creator becomes Owner' })
  @ApiConflictResponse({ description: 'SLUG_TAKEN' })
  create(@Body() body: CreateOrganizationDto, @Req() req: GatewayRequest): Promise<OrganizationView> {
    return this.services.call(MembershipSubjects.createOrganization(), { name: body.name, slug: body.slug }, req);
  }

  @ApiOperation({ operationId: 'listMyOrganizations', summary: 'List the organizations you belong to' })
  @Get()
  @AnyUser({ serviceAccounts: true })
  @ApiOkResponse({ type: OrganizationPage, description: 'the organizations the caller belongs to' })
  mine(@Query() query: PageQuery, @Req() req: GatewayRequest): Promise<Page<OrganizationView>> {
    return this.services.call(MembershipSubjects.myOrganizations(), { userId: req.user!.userId, limit: query.limit, cursor: query.cursor }, req);
  }

  @ApiOperation({ operationId: 'getOrganization', summary: 'Get an organization' })
  @Get(':org')
  @RequirePermission('organization.view')
  @ApiOkResponse({ type: OrganizationResponse })
  get(@Param('org', PathId) org: string, @Req() req: GatewayRequest): Promise<OrganizationView> {
    return this.services.call(MembershipSubjects.getOrganization(), { organizationId: org, userId: req.user!.userId }, req);
  }

  @ApiOperation({ operationId: 'listPeople', summary: 'List the people of an organization, with their roles and groups' })
  @Get(':org/people')
  @RequirePermission('organization.people.view')
  @ApiOkResponse({ type: PeoplePage })
  // membership's page as it sent it (it keeps pages serialized): forwarded, not parsed and serialized again, and
  // kept here until an event may have changed it (people-pages.ts)
  @Header('Content-Type', JSON_CONTENT_TYPE)
  async people(@Param('org', PathId) org: string, @Query() query: ListPeopleQuery, @Req() req: GatewayRequest): Promise<Buffer> {
    const body = { organizationId: org, ...query, roleId: optionalRoleIdOf(org, query.roleId, 'organization') };
    const key = JSON.stringify(body);
    // a caller with writes of its own (consistency tokens) asks membership, which waits for them
    const kept = this.services.afterOf(req) ? undefined : this.verified.people.get(key);
    if (kept) return kept;
    const page = await this.services.callJson(MembershipSubjects.listPeople(), body, req);
    if (req.ctx.readIndex !== undefined) this.verified.people.put(key, org, page, req.ctx.readIndex);
    return page;
  }

  @ApiOperation({ operationId: 'addPeople', summary: 'Add existing users by username or email' })
  @Post(':org/people')
  @HttpCode(200)
  @RequirePermission('organization.people.invite')
  @ApiOkResponse({ type: AddPeopleResponse, description: 'usernames match exactly (case included), emails regardless of case' })
  @ApiForbiddenResponse({ description: 'PRIVILEGE_ESCALATION: the role grants permissions the caller lacks; FORBIDDEN: Owner needs organization.change_owner' })
  async addPeople(@Param('org', PathId) org: string, @Body() body: AddPeopleDto, @Req() req: GatewayRequest): Promise<AddPeopleReply> {
    const reply = await this.services.call<AddPeopleReply>(
      MembershipSubjects.addPeople(),
      { organizationId: org, handles: body.handles, roleId: optionalRoleIdOf(org, body.roleId, 'organization') },
      req,
    );
    return { ...reply, added: reply.added.map(withId) };
  }

  @ApiOperation({ operationId: 'createAccounts', summary: 'Create accounts with temporary passwords (shown once)' })
  @Post(':org/accounts')
  @RequirePermission('organization.people.manage')
  @ApiCreatedResponse({ type: CreateAccountsResponse })
  @ApiConflictResponse({ description: 'USERNAME_TAKEN' })
  async createAccounts(@Param('org', PathId) org: string, @Body() body: CreateAccountsDto, @Req() req: GatewayRequest): Promise<CreateAccountsReply> {
    const accounts = body.accounts.map((a) => ({ email: a.email, username: a.username, name: a.name }));
    // under an Idempotency-Key a retry gets the same temporary passwords (docs/identity.md "Account batches")
    const key = req.ctx.idempotencyKey;
    const passwordSeed = key === undefined ? undefined : temporaryPasswordSeed(req.user?.userId ?? 'anonymous', key);
    const reply = await this.services.call<CreateAccountsReply>(
      MembershipSubjects.createAccounts(),
      { organizationId: org, accounts, roleId: optionalRoleIdOf(org, body.roleId, 'organization'), passwordSeed },
      req,
      // the usual wait plus a little per account: a batch of one account whose replica died is given up as
      // soon as any request (503 OUTCOME_UNKNOWN, the retry with the key continues it), not after a minute
      accountBatchTimeoutMs(accounts.length, this.services.requestTimeoutMs),
    );
    return { created: reply.created.map(withId), existing: reply.existing.map(withId) };
  }

  @ApiOperation({ operationId: 'removePerson', summary: 'Remove a person from the organization' })
  @Delete(':org/people/:userId')
  @HttpCode(204)
  @RequirePermission('organization.people.manage')
  @ApiNoContentResponse({ description: 'removed from the organization, its groups and every role binding in it' })
  @ApiConflictResponse({ description: 'OWNS_PROJECTS (with `projects: [{ id, name }]`), OWNER_PROTECTED' })
  async remove(@Param('org', PathId) org: string, @Param('userId', PathId) userId: string, @Req() req: GatewayRequest): Promise<void> {
    await this.services.call(MembershipSubjects.removePerson(), { organizationId: org, userId }, req);
  }

  @ApiOperation({ operationId: 'resetPersonPassword', summary: 'Reset the password of an account the organization manages' })
  @Post(':org/people/:userId/password')
  @HttpCode(200)
  @RequirePermission('organization.people.manage')
  @ApiOkResponse({ type: TemporaryPasswordResponse })
  @ApiForbiddenResponse({
    description:
      'NOT_MANAGED_ACCOUNT: the account was not created by this organization; PRIVILEGE_ESCALATION: the person holds permissions the caller lacks (FORBIDDEN for an Owner without organization.change_owner)',
  })
  resetPassword(@Param('org', PathId) org: string, @Param('userId', PathId) userId: string, @Req() req: GatewayRequest): Promise<ResetPasswordReply> {
    return this.services.call(MembershipSubjects.resetPassword(), { organizationId: org, userId }, req);
  }
}
