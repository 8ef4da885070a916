import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AccessSubjects, type RolePage, type RoleView } from '@app/contracts';
import { RequirePermission } from '../auth/permission.decorator';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
import { ChangeRoleDto, CreateRoleDto, ListRolesQuery, RolePageResponse, RoleResponse } from './roles.dto';

@ApiTags('roles and permissions')
@ApiBearerAuth()
@Controller('organizations/:org/roles')
export class RolesController {
  constructor(private readonly services: ServicesClient) {}

  @ApiOperation({ operationId: 'listRoles', summary: "List the organization's predefined and custom roles" })
  @Get()
  @RequirePermission('organization.custom_roles.view')
  @ApiOkResponse({ type: RolePageResponse, description: 'built-in roles first, then custom roles by name' })
  list(@Param('org', PathId) org: string, @Query() query: ListRolesQuery, @Req() req: GatewayRequest): Promise<RolePage> {
    return this.services.call(AccessSubjects.listRoles(), { organizationId: org, ...query }, req);
  }

  @ApiOperation({ operationId: 'getRole', summary: 'Get a role and its permissions' })
  @Get(':roleId')
  @RequirePermission('organization.custom_roles.view')
  @ApiOkResponse({ type: RoleResponse })
  get(@Param('org', PathId) org: string, @Param('roleId', PathId) roleId: string, @Req() req: GatewayRequest): Promise<RoleView> {
    return this.services.call(AccessSubjects.getRole(), { organizationId: org, roleId }, req);
  }

  @ApiOperation({ operationId: 'createRole', summary: 'Create a custom role' })
  @Post()
  @RequirePermission('organization.custom_roles.manage')
  @ApiCreatedResponse({ type: RoleResponse })
  @ApiBadRequestResponse({ description: 'ROLE_SCOPE_MISMATCH: an unknown permission or one of the other scope' })
  @ApiConflictResponse({ description: 'ROLE_NAME_TAKEN' })
  @ApiForbiddenResponse({ description: 'PRIVILEGE_ESCALATION: permissions the caller lacks' })
  create(@Param('org', PathId) org: string, @Body() body: CreateRoleDto, @Req() req: GatewayRequest): Promise<RoleView> {
    return this.services.call(AccessSubjects.createRole(), { organizationId: org, ...body }, req);
  }

  @ApiOperation({ operationId: 'changeRole', summary: 'Change a custom role' })
  @Patch(':roleId')
  @RequirePermission('organization.custom_roles.manage')
  @ApiOkResponse({ type: RoleResponse, description: 'permissions replace; holders get them at once' })
  @ApiConflictResponse({ description: 'ROLE_READ_ONLY (built-in), ROLE_NAME_TAKEN' })
  change(
    @Param('org', PathId) org: string,
    @Param('roleId', PathId) roleId: string,
    @Body() body: ChangeRoleDto,
    @Req() req: GatewayRequest,
  ): Promise<RoleView> {
    return this.services.call(AccessSubjects.changeRole(), { organizationId: org, roleId, ...body }, req);
  }

  @ApiOperation({ operationId: 'deleteRole', summary: 'Delete a custom role that nobody holds' })
  @Delete(':roleId')
  @HttpCode(204)
  @RequirePermission('organization.custom_roles.manage')
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'ROLE_READ_ONLY (built-in), ROLE_IN_USE (bound to someone)' })
  async remove(@Param('org', PathId) org: string, @Param('roleId', PathId) roleId: string, @Req() req: GatewayRequest): Promise<void> {
    await this.services.call(AccessSubjects.deleteRole(), { organizationId: org, roleId }, req);
  }
}
