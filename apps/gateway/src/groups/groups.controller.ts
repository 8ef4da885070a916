import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { MembershipSubjects, type GroupView, type Page } from '@app/contracts';
import { RequirePermission } from '../auth/permission.decorator';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
import { PageQuery } from '../common/page.dto';
import { CreateGroupDto, GroupPage, GroupResponse, UpdateGroupDto } from './groups.dto';

@ApiTags('groups')
@ApiBearerAuth()
@Controller('organizations/:org/groups')
export class GroupsController {
  constructor(private readonly services: ServicesClient) {}

  @ApiOperation({ operationId: 'createGroup', summary: 'Create a group' })
  @Post()
  @RequirePermission('organization.groups.manage')
  @ApiCreatedResponse({ type: GroupResponse, description: 'the group starts with the Member role' })
  @ApiBadRequestResponse({ description: 'NOT_A_MEMBER' })
  @ApiConflictResponse({ description: 'GROUP_NAME_TAKEN' })
  create(@Param('org', PathId) org: string, @Body() body: CreateGroupDto, @Req() req: GatewayRequest): Promise<GroupView> {
    return this.services.call(
      MembershipSubjects.createGroup(),
      { organizationId: org, name: body.name, description: body.description ?? '', memberIds: body.memberIds ?? [] },
      req,
    );
  }

  @ApiOperation({ operationId: 'listGroups', summary: 'List groups' })
  @Get()
  @RequirePermission('organization.groups.view')
  @ApiOkResponse({ type: GroupPage })
  list(@Param('org', PathId) org: string, @Query() query: PageQuery, @Req() req: GatewayRequest): Promise<Page<GroupView>> {
    return this.services.call(MembershipSubjects.listGroups(), { organizationId: org, ...query }, req);
  }

  @ApiOperation({ operationId: 'getGroup', summary: 'Get a group' })
  @Get(':groupId')
  @RequirePermission('organization.groups.view')
  @ApiOkResponse({ type: GroupResponse })
  get(@Param('org', PathId) org: string, @Param('groupId', PathId) groupId: string, @Req() req: GatewayRequest): Promise<GroupView> {
    return this.services.call(MembershipSubjects.getGroup(), { organizationId: org, groupId }, req);
  }

  @ApiOperation({ operationId: 'updateGroup', summary: 'Rename a group, or add and remove members (or give the full member list)' })
  @Patch(':groupId')
  @RequirePermission('organization.groups.manage')
  @ApiOkResponse({ type: GroupResponse })
  @ApiBadRequestResponse({ description: 'NOT_A_MEMBER' })
  @ApiConflictResponse({ description: 'GROUP_NAME_TAKEN' })
  async update(
    @Param('org', PathId) org: string,
    @Param('groupId', PathId) groupId: string,
    @Body() body: UpdateGroupDto,
    @Req() req: GatewayRequest,
  ): Promise<GroupView> {
    return this.services.call(MembershipSubjects.updateGroup(), { organizationId: org, groupId, ...body }, req);
  }

  @ApiOperation({ operationId: 'deleteGroup', summary: 'Delete a group' })
  @Delete(':groupId')
  @HttpCode(204)
  @RequirePermission('organization.groups.manage')
  @ApiNoContentResponse({ description: 'members lose what the group gave them' })
  async remove(@Param('org', PathId) org: string, @Param('groupId', PathId) groupId: string, @Req() req: GatewayRequest): Promise<void> {
    await this.services.call(MembershipSubjects.deleteGroup(), { organizationId: org, groupId }, req);
  }
}
