import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
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
import { AuthorizationSubjects, MembershipSubjects, type CheckPermissionsReply, type Page, type ProjectView } from '@app/contracts';
import { RequirePermission, RequireProjectPermission } from '../auth/permission.decorator';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { PathId } from '../common/path-id.pipe';
import { PageQuery } from '../common/page.dto';
import { CreateProjectDto, ProjectPage, ProjectResponse, TransferProjectDto } from './projects.dto';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('organizations/:org/projects')
export class ProjectsController {
  constructor(private readonly services: ServicesClient) {}

  @ApiOperation({ operationId: 'createProject', summary: 'Create a project (you become its owner)' })
  @Post()
  @RequirePermission('organization.projects.create')
  @ApiCreatedResponse({ type: ProjectResponse, description: 'the creator owns it (and holds project Admin on it)' })
  @ApiConflictResponse({ description: 'PROJECT_NAME_TAKEN: another project of the organization has this name (case-insensitive)' })
  create(@Param('org', PathId) org: string, @Body() body: CreateProjectDto, @Req() req: GatewayRequest): Promise<ProjectView> {
    return this.services.call(MembershipSubjects.createProject(), { organizationId: org, name: body.name }, req);
  }

  /** A page of the organization's projects, keeping those the caller may view (`project.view` in each). */
  @ApiOperation({ operationId: 'listProjects', summary: 'List projects' })
  @Get()
  @RequirePermission('organization.view')
  @ApiOkResponse({ type: ProjectPage, description: 'only the projects the caller can view' })
  async list(@Param('org', PathId) org: string, @Query() query: PageQuery, @Req() req: GatewayRequest): Promise<Page<ProjectView>> {
    const page = await this.services.call<Page<ProjectView>>(MembershipSubjects.listProjects(), { organizationId: org, ...query }, req);
    const visible = await Promise.all(
      page.items.map((p) =>
        this.services
          .call<CheckPermissionsReply>(
            AuthorizationSubjects.check(),
            { organizationId: org, userId: req.user!.userId, projectId: p.id, permissions: ['project.view'] },
            req,
          )
          .then((r) => r.member && r.allowed['project.view'] === true),
      ),
    );
    return { items: page.items.filter((_, i) => visible[i]), nextCursor: page.nextCursor };
  }

  @ApiOperation({ operationId: 'getProject', summary: 'Get a project' })
  @Get(':projectId')
  @RequireProjectPermission('project.view')
  @ApiOkResponse({ type: ProjectResponse })
  get(@Param('org', PathId) org: string, @Param('projectId', PathId) projectId: string, @Req() req: GatewayRequest): Promise<ProjectView> {
    return this.services.call(MembershipSubjects.getProject(), { organizationId: org, projectId }, req);
  }

  @ApiOperation({ operationId: 'transferProject', summary: 'Transfer a project to another member' })
  @Put(':projectId/owner')
  @RequireProjectPermission('project.access.manage')
  @ApiOkResponse({ type: ProjectResponse })
  @ApiBadRequestResponse({ description: 'NOT_A_MEMBER: the new owner must belong to the organization' })
  transfer(
    @Param('org', PathId) org: string,
    @Param('projectId', PathId) projectId: string,
    @Body() body: TransferProjectDto,
    @Req() req: GatewayRequest,
  ): Promise<ProjectView> {
    return this.services.call(MembershipSubjects.transferProject(), { organizationId: org, projectId, userId: body.userId.toLowerCase() }, req);
  }

  @ApiOperation({ operationId: 'deleteProject', summary: 'Delete a project' })
  @Delete(':projectId')
  @HttpCode(204)
  @RequireProjectPermission('project.delete')
  @ApiNoContentResponse({ description: 'every role binding on it is gone' })
  async remove(@Param('org', PathId) org: string, @Param('projectId', PathId) projectId: string, @Req() req: GatewayRequest): Promise<void> {
    await this.services.call(MembershipSubjects.deleteProject(), { organizationId: org, projectId }, req);
  }
}
