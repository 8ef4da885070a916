import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AccessSubjects,
  DomainError,
  ErrorCode,
  type Message,
  type ProjectMemberView,
  type ProjectMembersPage,
  type ProjectMembersRequest,
} from '@app/contracts';
import type { GroupEntry, UserEntry } from '@app/access-model';
import { ACCESS_VIEW } from '../../access/access.tokens';
import type { AccessView } from '../../view/access-view';
import { byName, caughtUpOrg, paginate } from '../views';

@Controller()
export class ProjectMembersController {
  constructor(@Inject(ACCESS_VIEW) private readonly view: AccessView) {}

  /** Users and groups with a role in the project: bound on it, or through an organization role that gives one everywhere. */
  @MessagePattern(AccessSubjects.projectMembers())
  async projectMembers(@Payload() msg: Message<ProjectMembersRequest>): Promise<ProjectMembersPage> {
    const b = msg.body;
    const org = await caughtUpOrg(this.view, b.organizationId);
    const projectId = b.projectId;
    if (!org.projects.has(projectId)) throw new DomainError(ErrorCode.NOT_FOUND, 'project not found');
    const itemOf = (type: 'user' | 'group', s: UserEntry | GroupEntry, name: string): ProjectMemberView | undefined => {
      const roles: ProjectMemberView['roles'] = [];
      const direct = org.roles.get(s.projectRoles.get(projectId) ?? '');
      if (direct) roles.push({ id: direct.id, name: direct.name, source: 'project' });
      const orgRole = org.orgRoleOf(s);
      const everywhere = orgRole?.projectRoleEverywhere ? org.roles.get(orgRole.projectRoleEverywhere) : undefined;
      if (orgRole && everywhere)
        roles.push({ id: everywhere.id, name: everywhere.name, source: 'organization', organizationRole: { id: orgRole.id, name: orgRole.name } });
      return roles.length ? { type, id: s.id, name, roles } : undefined;
    };
    const users = [...org.users.values()]
      .map((u) => itemOf('user', u, u.username))
      .filter((x) => x !== undefined)
      .sort(byName);
    const groups = [...org.groups.values()]
      .map((g) => itemOf('group', g, g.name))
      .filter((x) => x !== undefined)
      .sort(byName);
    return paginate([...users, ...groups], b.limit, b.cursor);
  }
}
