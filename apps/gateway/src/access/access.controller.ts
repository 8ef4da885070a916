import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AccessSubjects, MembershipSubjects, type BindingView, type ProjectMembersPage } from '@app/contracts';
import { RequirePermission, RequireProjectPermission } from '../auth/permission.decorator';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
import { AssignProjectRoleDto, AssignRoleDto, BindingResponse, ProjectMembersResponse } from './access.dto';
import { PageQuery } from '../common/page.dto';
import { roleIdOf } from '../common/role-ref';

/** Role bindings (membership's organization commands): the organization role of a person or group, project roles of users and groups; project members (authorization's view). */
@ApiTags('roles and permissions')
@ApiBearerAuth()
@Controller('organizations/:org')
export class AccessController {
  constructor(private readonly services: ServicesClient) {}

  @ApiOperation({ operationId: 'setPersonRole', summary: "Set a person's organization role" })
  @Put('people/:userId/role')
  @RequirePermission('organization.people.manage')
  @ApiOkResponse({ type: BindingResponse })
  @ApiBadRequestResponse({ description: 'ROLE_SCOPE_MISMATCH: not an organization role' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: giving or taking Owner needs organization.change_owner; PRIVILEGE_ESCALATION' })
  @ApiConflictResponse({ description: 'LAST_OWNER' })
  personRole(
    @Param('org', PathId) org: string,
    @Param('userId', PathId) userId: string,
    @Body() body: AssignRoleDto,
    @Req() req: GatewayRequest,
  ): Promise<BindingView> {
    return this.services.call(
      MembershipSubjects.assignRole(),
      { organizationId: org, subjectType: 'user', subjectId: userId, projectId: null, roleId: roleIdOf(org, body.roleId, 'organization') },
      req,
    );
  }

  @ApiOperation({ operationId: 'setGroupRole', summary: "Set a group's organization role" })
  @Put('groups/:groupId/role')
  @RequirePermission('organization.people.manage')
  @ApiOkResponse({ type: BindingResponse })
  @ApiForbiddenResponse({ description: 'same rules as for a person' })
  groupRole(
    @Param('org', PathId) org: string,
    @Param('groupId', PathId) groupId: string,
    @Body() body: AssignRoleDto,
    @Req() req: GatewayRequest,
  ): Promise<BindingView> {
    return this.services.call(
      MembershipSubjects.assignRole(),
      { organizationId: org, subjectType: 'group', subjectId: groupId, projectId: null, roleId: roleIdOf(org, body.roleId, 'organization') },
      req,
    );
  }

  @ApiOperation({ operationId: 'listProjectMembers', summary: "List a project's members and their project roles" })
  @Get('projects/:projectId/members')
  @RequireProjectPermission('project.access.view')
  @ApiOkResponse({
    type: ProjectMembersResponse,
    description: 'users and groups with project roles, including those given by organization roles (source: organization)',
  })
  async members(
    @Param('org', PathId) org: string,
    @Param('projectId', PathId) projectId: string,
    @Query() query: PageQuery,
    @Req() req: GatewayRequest,
  ): Promise<ProjectMembersPage> {
    const page = await this.services.call<ProjectMembersPage>(AccessSubjects.projectMembers(), { organizationId: org, projectId, ...query }, req);
    // `name` of a user is their username here (the display name in people): `username` says so (docs/api.md)
    return { ...page, items: page.items.map((m) => (m.type === 'user' ? { ...m, username: m.name } : m)) };
  }

  @ApiOperation({ operationId: 'setProjectMemberRole', summary: "Set a user's or group's role in a project" })
  @Put('projects/:projectId/members/:subjectId/role')
  @RequireProjectPermission('project.access.manage')
  @ApiOkResponse({ type: BindingResponse })
  @ApiBadRequestResponse({ description: 'ROLE_SCOPE_MISMATCH (not a project role), NOT_A_MEMBER (the subject is not in the organization)' })
  @ApiForbiddenResponse({ description: 'PRIVILEGE_ESCALATION' })
  memberRole(
    @Param('org', PathId) org: string,
    @Param('projectId', PathId) projectId: string,
    @Param('subjectId', PathId) subjectId: string,
    @Body() body: AssignProjectRoleDto,
    @Req() req: GatewayRequest,
  ): Promise<BindingView> {
    return this.services.call(
      MembershipSubjects.assignRole(),
      { organizationId: org, subjectType: body.subjectType, subjectId, projectId, roleId: roleIdOf(org, body.roleId, 'project') },
      req,
    );
  }

  @ApiOperation({ operationId: 'removeProjectMember', summary: "Take a user's or group's project role away" })
  @Delete('projects/:projectId/members/:subjectId')
  @HttpCode(204)
  @RequireProjectPermission('project.access.manage')
  @ApiNoContentResponse({ description: 'the subject loses the role bound on the project' })
  async removeMember(
    @Param('org', PathId) org: string,
    @Param('projectId', PathId) projectId: string,
    @Param('subjectId', PathId) subjectId: string,
    @Req() req: GatewayRequest,
  ): Promise<void> {
    await this.services.call(MembershipSubjects.unassignRole(), { organizationId: org, projectId, subjectId }, req);
  }
}
