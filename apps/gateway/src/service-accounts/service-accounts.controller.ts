import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
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
  ErrorCode,
  IdentitySubjects,
  MembershipSubjects,
  type CreatedServiceAccountToken,
  type Page,
  type ServiceAccountDetail,
  type ServiceAccountRoles,
  type ServiceAccountRolesReply,
  type ServiceAccountView,
} from '@app/contracts';
import { RequirePermission } from '../auth/permission.decorator';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
import { PageQuery } from '../common/page.dto';
import { optionalRoleIdOf } from '../common/role-ref';
import { HTTP_STATUS, ServiceError } from '../common/service-error';
import {
  CreatedTokenResponse,
  CreateServiceAccountDto,
  CreateServiceAccountTokenDto,
  ServiceAccountDetailResponse,
  ServiceAccountPage,
  ServiceAccountResponse,
  UpdateServiceAccountDto,
} from './service-accounts.dto';

const VIEW = 'organization.service_accounts.view';
const MANAGE = 'organization.service_accounts.manage';

/** What the HTTP API shows of a service account: identity's account with membership's roles of it. */
function shown<T extends ServiceAccountView>(sa: T, roles: ServiceAccountRoles | undefined) {
  const { organizationId: _org, ...rest } = sa;
  return { ...rest, type: 'service_account' as const, role: roles?.role ?? null, projectRoles: roles?.projectRoles ?? [] };
}

/** A refusal (4xx) of a service: the command changed nothing. */
const refused = (err: unknown) => err instanceof ServiceError && (HTTP_STATUS[err.reply.code] ?? 500) < 500;

/**
 * Service accounts (docs/identity.md "Service accounts"): identity owns the account and its tokens, membership
 * holds it as a member of the organization (its role, groups, project roles); this controller orchestrates the
 * two, as `POST …/accounts` does.
 */
@ApiTags('service accounts')
@ApiBearerAuth()
@Controller('organizations/:org/service-accounts')
export class ServiceAccountsController {
  constructor(private readonly services: ServicesClient) {}

  @ApiOperation({ operationId: 'listServiceAccounts', summary: "List the organization's service accounts" })
  @Get()
  @RequirePermission(VIEW)
  @ApiOkResponse({ type: ServiceAccountPage })
  async list(@Param('org', PathId) org: string, @Query() query: PageQuery, @Req() req: GatewayRequest) {
    const page = await this.services.call<Page<ServiceAccountView>>(IdentitySubjects.listServiceAccounts(), { organizationId: org, ...query }, req);
    const roles = await this.roles(org, page.items, req);
    return { items: page.items.map((sa) => shown(sa, roles[sa.id])), nextCursor: page.nextCursor };
  }

  @ApiOperation({ operationId: 'createServiceAccount', summary: 'Create a service account (a non-human member, authenticated by its tokens)' })
  @Post()
  @RequirePermission(MANAGE)
  @ApiCreatedResponse({ type: ServiceAccountResponse, description: 'it has no token yet: create one with POST …/tokens' })
  @ApiForbiddenResponse({ description: 'PRIVILEGE_ESCALATION: Owner, or a role granting permissions the caller lacks' })
  @ApiConflictResponse({ description: 'SERVICE_ACCOUNT_NAME_TAKEN (names are unique in the organization regardless of case)' })
  async create(@Param('org', PathId) org: string, @Body() body: CreateServiceAccountDto, @Req() req: GatewayRequest) {
    const roleId = optionalRoleIdOf(org, body.roleId, 'organization');
    // the role first (nothing created when it is refused), then the account, then it joins with the role
    await this.services.call(MembershipSubjects.addServiceAccount(), { organizationId: org, roleId, checkOnly: true }, req);
    const sa = await this.services.call<ServiceAccountView>(
      IdentitySubjects.createServiceAccount(),
      { organizationId: org, name: body.name, description: body.description ?? '', createdBy: req.user!.userId },
      req,
    );
    try {
      await this.services.call(MembershipSubjects.addServiceAccount(), { organizationId: org, serviceAccountId: sa.id, name: sa.name, roleId }, req);
    } catch (err) {
      // the role was refused after all (the actor's own roles changed in between): the account goes again
      if (refused(err)) await this.services.call(IdentitySubjects.deleteServiceAccount(), { organizationId: org, serviceAccountId: sa.id }, req);
      throw err;
    }
    return shown(sa, (await this.roles(org, [sa], req))[sa.id]);
  }

  @ApiOperation({ operationId: 'getServiceAccount', summary: "Get a service account with its tokens' metadata" })
  @Get(':id')
  @RequirePermission(VIEW)
  @ApiOkResponse({ type: ServiceAccountDetailResponse })
  async get(@Param('org', PathId) org: string, @Param('id', PathId) id: string, @Req() req: GatewayRequest) {
    const sa = await this.services.call<ServiceAccountDetail>(IdentitySubjects.getServiceAccount(), { organizationId: org, serviceAccountId: id }, req);
    return shown(sa, (await this.roles(org, [sa], req))[sa.id]);
  }

  @ApiOperation({ operationId: 'updateServiceAccount', summary: 'Rename, describe, deactivate or reactivate a service account' })
  @Patch(':id')
  @RequirePermission(MANAGE)
  @ApiOkResponse({ type: ServiceAccountResponse, description: 'deactivated: every token is refused from the next request on' })
  @ApiConflictResponse({ description: 'SERVICE_ACCOUNT_NAME_TAKEN' })
  async update(@Param('org', PathId) org: string, @Param('id', PathId) id: string, @Body() body: UpdateServiceAccountDto, @Req() req: GatewayRequest) {
    const sa = await this.services.call<ServiceAccountView>(
      IdentitySubjects.changeServiceAccount(),
      { organizationId: org, serviceAccountId: id, name: body.name, description: body.description, active: body.active },
      req,
    );
    return shown(sa, (await this.roles(org, [sa], req))[sa.id]);
  }

  /**
   * It leaves the organization first (membership refuses while it owns projects: OWNS_PROJECTS), then identity
   * deletes it and every token with it. A retry after a failure between the two finds it gone from membership
   * (NOT_FOUND there) and completes the deletion.
   */
  @ApiOperation({ operationId: 'deleteServiceAccount', summary: 'Delete a service account (every token dies at once)' })
  @Delete(':id')
  @HttpCode(204)
  @RequirePermission(MANAGE)
  @ApiNoContentResponse({ description: 'gone from the organization, its groups and every role binding; its tokens are refused' })
  @ApiConflictResponse({ description: 'OWNS_PROJECTS: transfer its projects first' })
  async remove(@Param('org', PathId) org: string, @Param('id', PathId) id: string, @Req() req: GatewayRequest): Promise<void> {
    const ref = { organizationId: org, serviceAccountId: id };
    await this.services.call(IdentitySubjects.getServiceAccount(), ref, req); // a service account of this organization, not a person
    try {
      await this.services.call(MembershipSubjects.removePerson(), { organizationId: org, userId: id }, req);
    } catch (err) {
      if (!(err instanceof ServiceError && err.reply.code === ErrorCode.NOT_FOUND)) throw err;
    }
    await this.services.call(IdentitySubjects.deleteServiceAccount(), ref, req);
  }

  @ApiOperation({ operationId: 'createServiceAccountToken', summary: 'Create a token for a service account (shown once)' })
  @Post(':id/tokens')
  @RequirePermission(MANAGE)
  @ApiCreatedResponse({ type: CreatedTokenResponse, description: 'the token is in this answer only; only its hash is stored' })
  createToken(
    @Param('org', PathId) org: string,
    @Param('id', PathId) id: string,
    @Body() body: CreateServiceAccountTokenDto,
    @Req() req: GatewayRequest,
  ): Promise<CreatedServiceAccountToken> {
    return this.services.call(
      IdentitySubjects.createServiceAccountToken(),
      { organizationId: org, serviceAccountId: id, name: body.name, expiresAt: body.expiresAt },
      req,
    );
  }

  @ApiOperation({ operationId: 'revokeServiceAccountToken', summary: "Revoke one of a service account's tokens" })
  @Delete(':id/tokens/:tokenId')
  @HttpCode(204)
  @RequirePermission(MANAGE)
  @ApiNoContentResponse({ description: 'the token is refused from the next request on' })
  async revokeToken(
    @Param('org', PathId) org: string,
    @Param('id', PathId) id: string,
    @Param('tokenId', PathId) tokenId: string,
    @Req() req: GatewayRequest,
  ): Promise<void> {
    await this.services.call(IdentitySubjects.revokeServiceAccountToken(), { organizationId: org, serviceAccountId: id, tokenId }, req);
  }

  private roles(org: string, accounts: Array<{ id: string }>, req: GatewayRequest): Promise<ServiceAccountRolesReply> {
    if (!accounts.length) return Promise.resolve({});
    return this.services.call<ServiceAccountRolesReply>(MembershipSubjects.serviceAccountRoles(), { organizationId: org, ids: accounts.map((a) => a.id) }, req);
  }
}
