import type { DomainEvent } from '@app/contracts';

export interface OrganizationState {
  exists: boolean;
  id?: string;
  name?: string;
  slug?: string;
  ownerId?: string;
}

export const initialOrganizationState: OrganizationState = { exists: false };

export const organizationStreamId = (organizationId: string): string => `organization-${organizationId}`;

export function evolveOrganization(state: OrganizationState, event: DomainEvent): OrganizationState {
  const d = event.data as Record<string, string>;
  switch (event.type) {
    case 'organization.created':
      return { exists: true, id: d.organizationId, name: d.name, slug: d.slug, ownerId: d.ownerId };
    default:
      return state;
  }
}
