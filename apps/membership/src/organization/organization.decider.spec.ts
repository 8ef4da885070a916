import { deciderSpec } from '@app/testing';
import { organizationDecider } from './organization.decider';

const organizationId = '33333333-3333-4333-8333-333333333333';
const ownerId = '11111111-1111-4111-8111-111111111111';
const create = { kind: 'CreateOrganization' as const, organizationId, name: 'Acme', slug: 'acme', ownerId };

describe('organization decider', () => {
  const spec = deciderSpec(organizationDecider);

  it('creates the organization with its owner, scoped to itself', () => {
    spec.given().when(create).then([{ type: 'organization.created', organizationId, data: { organizationId, name: 'Acme', slug: 'acme', ownerId } }]);
  });

  it('does nothing when the organization exists', () => {
    spec.given({ type: 'organization.created', version: 1, organizationId, data: create }).when(create).thenNothing();
  });
});
