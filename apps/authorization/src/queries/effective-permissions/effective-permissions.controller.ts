import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccessSubjects,
  DomainError,
  ErrorCode,
  permissionScope,
  type EffectivePermissionsReply,
  type EffectivePermissionsRequest,
  type Message,
} from '@app/contracts';
import { ACCESS_VIEW } from '../../access/access.tokens';
import type { AccessView } from '../../view/access-view';
import { caughtUpOrg } from '../views';

@Controller()
export class EffectivePermissionsController {
  constructor(@Inject(ACCESS_VIEW) private readonly view: AccessView) {}

  /** Effective permissions of a member, each with where it came from; NOT_FOUND for a non-member or a project of another organization. */
  @MessagePattern(AccessSubjects.effectivePermissions())
  async effectivePermissions(@Payload() msg: Message<EffectivePermissionsRequest>): Promise<EffectivePermissionsReply> {
    const b = msg.body;
    const projectId = b.projectId ?? null;
    const org = await caughtUpOrg(this.view, b.organizationId);
    const userId = b.userId;
    if (!org.users.has(userId)) throw new DomainError(ErrorCode.NOT_FOUND, 'person not found');
    if (projectId !== null && !org.projects.has(projectId)) throw new DomainError(ErrorCode.NOT_FOUND, 'project not found');
    return {
      userId,
      projectId,
      permissions: org.effectivePermissions(userId, projectId).map((p) => ({ name: p.name, scope: permissionScope(p.name)!, sources: p.sources })),
    };
  }
}
