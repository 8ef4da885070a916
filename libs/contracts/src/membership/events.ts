import { defineEvent, S } from '../catalogue';

const svc = 'membership' as const;

export const OrganizationCreated = defineEvent({
  service: svc,
  type: 'organization.created',
  version: 1,
  organizationScoped: true,
  description: 'An organization was created; its creator (`ownerId`) becomes its Owner.',
  data: S.obj({ organizationId: S.uuid, name: S.str(100), slug: S.str(50), ownerId: S.uuid }),
});

export const MEMBERSHIP_EVENTS = [OrganizationCreated] as const;
