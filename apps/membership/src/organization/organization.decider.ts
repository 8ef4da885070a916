import { OrganizationCreated, type CommandMeta, type NewEvent } from '@app/contracts';
import type { Decider } from '@app/event-store';
import { evolveOrganization, initialOrganizationState, type OrganizationState } from './organization.state';

export type OrganizationCommand = {
  kind: 'CreateOrganization';
  organizationId: string;
  name: string;
  slug: string;
  ownerId: string;
};

export function decideOrganization(command: OrganizationCommand, state: OrganizationState, _meta: CommandMeta): NewEvent[] {
  switch (command.kind) {
    case 'CreateOrganization':
      if (state.exists) return [];
      return [
        {
          type: OrganizationCreated.type,
          version: OrganizationCreated.version,
          organizationId: command.organizationId,
          data: { organizationId: command.organizationId, name: command.name, slug: command.slug, ownerId: command.ownerId },
        },
      ];
  }
}

export const organizationDecider: Decider<OrganizationState, OrganizationCommand> = {
  initialState: initialOrganizationState,
  evolve: evolveOrganization,
  decide: decideOrganization,
};
