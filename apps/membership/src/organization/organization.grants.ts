import { builtInRoleId, type GrantChange } from '@app/contracts';
import type { OrganizationCommand } from './organization.decider';

/**
 * What an organization command grants or takes away other than by binding a role, for authorization to allow
 * or refuse before the command runs (its `check-grant` query; the rules are in authorization's grants.ts):
 * people joining with a role, people put in or taken out of a group (they get or lose its roles), a group
 * deleted. Pure, so the escalation property test runs the same list the service sends.
 */
export function grantChanges(command: OrganizationCommand): GrantChange[] {
  switch (command.kind) {
    case 'AddMembers':
      return [{ kind: 'bind', roleId: command.roleId ?? builtInRoleId(command.organizationId, 'member'), scope: 'organization' }];
    case 'CreateGroup':
      return command.memberIds.length ? [{ kind: 'new-group' }] : [];
    case 'UpdateGroup': {
      const changes: GrantChange[] = [];
      if (command.addMemberIds?.length) changes.push({ kind: 'join-group', groupId: command.groupId });
      if (command.removeMemberIds?.length) changes.push({ kind: 'leave-group', groupId: command.groupId });
      return changes;
    }
    case 'DeleteGroup':
      return [{ kind: 'delete-group', groupId: command.groupId }];
    default:
      return [];
  }
}
