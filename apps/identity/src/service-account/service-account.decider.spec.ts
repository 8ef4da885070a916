import { asStored, deciderSpec } from '@app/testing';
import { serviceAccountDecider, tokenExpiry, MAX_TOKENS, type ServiceAccountCommand } from './service-account.decider';
import { evolveServiceAccount, initialServiceAccountState, tokenUsable } from './service-account.state';
import type { CatalogueEvent, NewEvent } from '@app/contracts';

const sa = '11111111-1111-4111-8111-111111111111';
const org = '33333333-3333-4333-8333-333333333333';
const otherOrg = '44444444-4444-4444-8444-444444444444';
const creator = '55555555-5555-4555-8555-555555555555';
const tokenId = '22222222-2222-4222-8222-222222222222';
const ref = { serviceAccountId: sa, organizationId: org };
const NOW = '2026-01-01T00:00:00.000Z';

const created: NewEvent = {
  type: 'service-account.created',
  version: 1,
  organizationId: org,
  data: { ...ref, name: 'ci-deploy', description: 'CI', createdBy: creator },
};
const tokenCreated = (id = tokenId, expiresAt: string | null = '2026-02-01T00:00:00.000Z'): NewEvent => ({
  type: 'service-account.token-created',
  version: 1,
  organizationId: org,
  data: { ...ref, tokenId: id, name: 'pipeline', expiresAt },
});
const deactivated: NewEvent = { type: 'service-account.deactivated', version: 1, organizationId: org, data: { ...ref, name: 'ci-deploy' } };
const deleted: NewEvent = { type: 'service-account.deleted', version: 1, organizationId: org, data: { ...ref, name: 'ci-deploy' } };
const stateOf = (...events: NewEvent[]) => asStored(events).reduce((s, e) => evolveServiceAccount(s, e as CatalogueEvent), initialServiceAccountState);

describe('service account decider', () => {
  const spec = deciderSpec(serviceAccountDecider);
  const create: ServiceAccountCommand = { kind: 'CreateServiceAccount', ...ref, name: 'ci-deploy', description: 'CI', createdBy: creator };
  const createToken = (over: Partial<Extract<ServiceAccountCommand, { kind: 'CreateToken' }>> = {}): ServiceAccountCommand => ({
    kind: 'CreateToken',
    ...ref,
    tokenId,
    name: 'pipeline',
    expiresAt: '2026-02-01T00:00:00.000Z',
    maxDays: 365,
    ...over,
  });

  it('creates a service account in its organization; a name must be a handle', () => {
    spec
      .given()
      .when(create)
      .then([{ type: 'service-account.created', organizationId: org, data: created.data }]);
    spec.given(created).when(create).thenNothing();
    spec
      .given()
      .when({ ...create, name: 'has space' })
      .thenThrows('VALIDATION_FAILED');
  });

  it('an account of another organization, or a deleted one, is not found', () => {
    spec.given(created).when({ kind: 'DeleteServiceAccount', serviceAccountId: sa, organizationId: otherOrg }).thenThrows('NOT_FOUND');
    spec.given(created, deleted).when(createToken()).thenThrows('NOT_FOUND');
    spec
      .given(created, deleted)
      .when({ kind: 'ChangeServiceAccount', ...ref, active: true })
      .thenThrows('NOT_FOUND');
  });

  it('renames, deactivates and reactivates', () => {
    spec
      .given(created)
      .when({ kind: 'ChangeServiceAccount', ...ref, name: 'ci-release', active: false })
      .then([
        { type: 'service-account.details-changed', data: { ...ref, name: 'ci-release', description: 'CI', previousName: 'ci-deploy' } },
        { type: 'service-account.deactivated', data: { ...ref, name: 'ci-release' } },
      ]);
    spec
      .given(created)
      .when({ kind: 'ChangeServiceAccount', ...ref, active: true })
      .thenNothing();
    spec
      .given(created, deactivated)
      .when({ kind: 'ChangeServiceAccount', ...ref, active: true })
      .then([{ type: 'service-account.reactivated' }]);
  });

  it('issues a token with an expiry at most the maximum; never one in the past', () => {
    spec
      .given(created)
      .when(createToken())
      .then([{ type: 'service-account.token-created', data: { ...ref, tokenId, name: 'pipeline', expiresAt: '2026-02-01T00:00:00.000Z' } }]);
    spec
      .given(created)
      .when(createToken({ expiresAt: '2025-12-31T00:00:00.000Z' }))
      .thenThrows('VALIDATION_FAILED');
    spec
      .given(created)
      .when(createToken({ expiresAt: '2027-06-01T00:00:00.000Z' }))
      .thenThrows('VALIDATION_FAILED');
    spec
      .given(created)
      .when(createToken({ expiresAt: 'tomorrow' }))
      .thenThrows('VALIDATION_FAILED');
    spec.given(created, tokenCreated()).when(createToken()).thenNothing(); // the same token id again (a retried command)
  });

  it(`refuses more than ${MAX_TOKENS} tokens`, () => {
    const many = Array.from({ length: MAX_TOKENS }, (_, i) => tokenCreated(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
    spec
      .given(created, ...many)
      .when(createToken())
      .thenThrows('VALIDATION_FAILED');
  });

  it('revokes a token it has, by id', () => {
    spec
      .given(created, tokenCreated())
      .when({ kind: 'RevokeToken', ...ref, tokenId })
      .then([{ type: 'service-account.token-revoked', data: { ...ref, tokenId, name: 'pipeline' } }]);
    spec
      .given(created)
      .when({ kind: 'RevokeToken', ...ref, tokenId })
      .thenThrows('NOT_FOUND');
  });
});

describe('tokenExpiry', () => {
  it('defaults to the maximum, or never without one', () => {
    expect(tokenExpiry(undefined, NOW, 30)).toBe('2026-01-31T00:00:00.000Z');
    expect(tokenExpiry(undefined, NOW, 0)).toBeNull();
    expect(tokenExpiry('2030-01-01T00:00:00Z', NOW, 0)).toBe('2030-01-01T00:00:00.000Z');
  });
});

describe('tokenUsable', () => {
  const at = Date.parse('2026-01-15T00:00:00.000Z');
  it('only a live token of an active, undeleted account, before its expiry', () => {
    expect(tokenUsable(stateOf(created, tokenCreated()), tokenId, at)).toBe(true);
    expect(tokenUsable(stateOf(created, tokenCreated(tokenId, null)), tokenId, at)).toBe(true);
    expect(tokenUsable(stateOf(created, tokenCreated()), tokenId, Date.parse('2026-02-01T00:00:00.000Z'))).toBe(false);
    expect(tokenUsable(stateOf(created, tokenCreated(), deactivated), tokenId, at)).toBe(false);
    expect(tokenUsable(stateOf(created, tokenCreated(), deleted), tokenId, at)).toBe(false);
    const revoked: NewEvent = { type: 'service-account.token-revoked', version: 1, organizationId: org, data: { ...ref, tokenId, name: 'pipeline' } };
    expect(tokenUsable(stateOf(created, tokenCreated(), revoked), tokenId, at)).toBe(false);
    expect(tokenUsable(stateOf(created), tokenId, at)).toBe(false);
  });
});
