import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessSubjects, AuthorizationSubjects, ErrorCode, PERMISSIONS, type CheckPermissionsReply, type EffectivePermissionsReply } from '@app/contracts';
import { AnyUser, OrganizationMember } from '../auth/permission.decorator';
import { forbidden } from '../auth/permission.guard';
import { ServicesClient } from '../common/services.client';
import { ServiceError } from '../common/service-error';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
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
  constructor(private readonly services: ServicesClient) {}

  /** The catalogue is part of the contract (libs/contracts), so the gateway serves it itself. */
  @ApiOperation({ operationId: 'listPermissions', summary: 'List every permission the product knows' })
  @Get('permissions')
  @AnyUser()
  @ApiOkResponse({ type: PermissionPage, description: 'the permission catalogue (38 organization, 31 project permissions)' })
  catalogue(@Query() query: CatalogueQuery): PermissionPage {
    return { items: PERMISSIONS.filter((p) => !query.scope || p.scope === query.scope).map((p) => ({ ...p })), nextCursor: null };
  }

  /** The caller's own permissions, or (with organization.people.view) another member's. */
  private async mayLookAt(org: string, userId: string, req: GatewayRequest): Promise<void> {
    if (userId === req.user!.userId) return;
    const reply = await this.services.call<CheckPermissionsReply>(
      AuthorizationSubjects.check(),
      { organizationId: org, userId: req.user!.userId, permissions: [PEOPLE_VIEW], atLeast: req.ctx.readIndex },
      req,
    );
    if (!reply.allowed[PEOPLE_VIEW]) throw forbidden(PEOPLE_VIEW);
  }

  @ApiOperation({ operationId: 'checkPermissions', summary: 'Check whether a user holds permissions' })
  @Post('organizations/:org/permissions/check')
  @HttpCode(200)
  @OrganizationMember()
  @ApiOkResponse({ type: CheckPermissionsResponse })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: checking another user needs organization.people.view' })
  @ApiNotFoundResponse({ description: 'the user is not a member, or the project is not in the organization' })
  async check(@Param('org', PathId) org: string, @Body() body: CheckPermissionsDto, @Req() req: GatewayRequest): Promise<{ allowed: Record<string, boolean> }> {
    const userId = body.userId?.toLowerCase() ?? req.user!.userId;
    await this.mayLookAt(org, userId, req);
    const reply = await this.services.call<CheckPermissionsReply>(
      AuthorizationSubjects.check(),
      { organizationId: org, userId, projectId: body.projectId?.toLowerCase() ?? null, permissions: body.permissions, atLeast: req.ctx.readIndex },
      req,
    );
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
