import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessSubjects, ErrorCode, PERMISSIONS, type EffectivePermissionsReply } from '@app/contracts';
import { AnyUser, OrganizationMember } from '../auth/permission.decorator';
import { checkAccess } from '../auth/access-check';
import { AnsweredHere } from '../auth/public.decorator';
import { VERIFIED_TOKENS, type VerifiedTokens } from '../auth/verified-tokens';
import { forbidden, notFound } from '../auth/permission.guard';
import { ServicesClient } from '../common/services.client';
import { ServiceError } from '../common/service-error';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
import { NotAWrite } from '../common/idempotent-writes';
import {
  CatalogueQuery,
  CheckPermissionsDto,
  CheckPermissionsResponse,
  EffectivePermissionsQuery,
  EffectivePermissionsResponse,
  PermissionPage,
} from './permissions.dto';

const PEOPLE_VIEW = 'organization.people.view';

@ApiTags('roles and permissions')
@ApiBearerAuth()
@Controller()
export class PermissionsController {
  constructor(
    private readonly services: ServicesClient,
    @Inject(VERIFIED_TOKENS) private readonly verified: VerifiedTokens,
  ) {}

  /** The catalogue is part of the contract (libs/contracts), so the gateway serves it itself. */
  @ApiOperation({ operationId: 'listPermissions', summary: 'List every permission the product knows' })
  @Get('permissions')
  @AnyUser()
  @ApiOkResponse({ type: PermissionPage, description: 'the permission catalogue (38 organization, 31 project permissions)' })
  catalogue(@Query() query: CatalogueQuery): PermissionPage {
    return { items: PERMISSIONS.filter((p) => !query.scope || p.scope === query.scope).map((p) => ({ ...p })), nextCursor: null };
  }

  /** The caller's own permissions, or (a member with organization.people.view) another member's; a non-member gets 404. */
  private async mayLookAt(org: string, userId: string, req: GatewayRequest): Promise<void> {
    if (userId === req.user!.userId) return;
    const reply = await checkAccess(this.verified, this.services, req, {
      organizationId: org,
      userId: req.user!.userId,
      projectId: null,
      permissions: [PEOPLE_VIEW],
    });
    if (!reply.member) throw notFound();
    if (!reply.allowed[PEOPLE_VIEW]) throw forbidden(PEOPLE_VIEW);
  }

  @ApiOperation({ operationId: 'checkPermissions', summary: 'Check whether a user holds permissions' })
  @Post('organizations/:org/permissions/check')
  @HttpCode(200)
  @NotAWrite()
  // one hop: the caller's membership is the route's own check (of the caller, or mayLookAt's for another user)
  @OrganizationMember({ checkedByRoute: true })
  @AnsweredHere()
  @ApiOkResponse({ type: CheckPermissionsResponse })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: checking another user needs organization.people.view' })
  @ApiNotFoundResponse({ description: 'the user is not a member, or the project is not in the organization' })
  async check(@Param('org', PathId) org: string, @Body() body: CheckPermissionsDto, @Req() req: GatewayRequest): Promise<{ allowed: Record<string, boolean> }> {
    const userId = body.userId?.toLowerCase() ?? req.user!.userId;
    await this.mayLookAt(org, userId, req);
    const reply = await checkAccess(this.verified, this.services, req, {
      organizationId: org,
      userId,
      projectId: body.projectId?.toLowerCase() ?? null,
      permissions: body.permissions,
    });
    if (!reply.member && userId === req.user!.userId && !body.projectId) throw notFound(); // the caller is no member: as the guard answers
    if (!reply.member) throw new ServiceError({ code: ErrorCode.NOT_FOUND, message: body.projectId ? 'person or project not found' : 'person not found' });
    return { allowed: reply.allowed };
  }

  @ApiOperation({ operationId: 'getEffectivePermissions', summary: "Get a person's effective permissions and where each comes from" })
  @Get('organizations/:org/people/:userId/permissions')
  @OrganizationMember()
  @ApiOkResponse({ type: EffectivePermissionsResponse, description: 'effective permissions, each with the roles it comes from' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: another user’s permissions need organization.people.view' })
  async effective(
    @Param('org', PathId) org: string,
    @Param('userId', PathId) userId: string,
    @Query() query: EffectivePermissionsQuery,
    @Req() req: GatewayRequest,
  ): Promise<EffectivePermissionsReply> {
    await this.mayLookAt(org, userId, req);
    return this.services.call(AccessSubjects.effectivePermissions(), { organizationId: org, userId, projectId: query.projectId?.toLowerCase() ?? null }, req);
  }
}
