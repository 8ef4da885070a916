import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthorizationSubjects, type Message, type RolesReply, type RolesRequest } from '@app/contracts';
import { AccessRoles } from '../../access/access-roles';

@Controller()
export class CustomRolesController {
  constructor(@Inject(AccessRoles) private readonly accessRoles: AccessRoles) {}

  /** The custom roles of the organization as the access stream in the event store has them (membership decides grants with them). */
  @MessagePattern(AuthorizationSubjects.roles())
  async roles(@Payload() msg: Message<RolesRequest>): Promise<RolesReply> {
    const roles = await this.accessRoles.of(msg.body.organizationId);
    return { roles: roles.map((r) => ({ ...r, builtIn: false })) };
  }
}
