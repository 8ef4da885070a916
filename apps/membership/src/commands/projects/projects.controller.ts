import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  DomainError,
  ErrorCode,
  isNewEvent,
  MembershipSubjects,
  ProjectCreated,
  stableUuid,
  type CreateProjectRequest,
  type DeleteProjectRequest,
  type Message,
  type ProjectView,
  type TransferProjectRequest,
} from '@app/contracts';
import { withToken } from '../../organization/organization-command.runner';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';

/** Create, transfer and delete a project of the organization. */
@Controller()
export class ProjectCommandsController {
  constructor(@Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps) {}

  @MessagePattern(MembershipSubjects.createProject())
  async create(@Payload() m: Message<CreateProjectRequest>): Promise<ProjectView> {
    const req = m.body;
    const { name } = req;
    const projectId = stableUuid(`project:${m.meta.commandId}`);
    const result = await runOrganizationCommand(
      this.organizations,
      { kind: 'CreateProject', organizationId: req.organizationId, projectId, name, ownerId: m.meta.actor.id },
      m.meta,
      (events) => events.find((e) => isNewEvent(e, ProjectCreated))?.data.projectId,
    );
    const p = result.state.projects.get(result.reply ?? projectId)!;
    return withToken(req.organizationId, result.version, { id: p.id, name: p.name, ownerId: p.ownerId });
  }

  @MessagePattern(MembershipSubjects.transferProject())
  async transfer(@Payload() m: Message<TransferProjectRequest>): Promise<ProjectView> {
    const req = m.body;
    const result = await runOrganizationCommand(
      this.organizations,
      { kind: 'TransferProject', organizationId: req.organizationId, projectId: req.projectId, ownerId: req.userId },
      m.meta,
    );
    const p = result.state.projects.get(req.projectId);
    if (!p) throw new DomainError(ErrorCode.NOT_FOUND, 'project not found');
    return withToken(req.organizationId, result.version, { id: p.id, name: p.name, ownerId: p.ownerId });
  }

  @MessagePattern(MembershipSubjects.deleteProject())
  async delete(@Payload() m: Message<DeleteProjectRequest>): Promise<{ consistencyToken?: string }> {
    const { version } = await runOrganizationCommand(
      this.organizations,
      { kind: 'DeleteProject', organizationId: m.body.organizationId, projectId: m.body.projectId },
      m.meta,
    );
    return withToken(m.body.organizationId, version, {});
  }
}
