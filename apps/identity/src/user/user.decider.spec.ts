import { deciderSpec } from '@app/testing';
import { userDecider } from './user.decider';

const userId = '11111111-1111-4111-8111-111111111111';
const tokenId = '22222222-2222-4222-8222-222222222222';
const created = {
  type: 'user.created',
  version: 1,
  data: { userId, username: 'admin', email: 'admin@example.com', name: 'admin', createdBy: 'bootstrap', managedByOrganizationId: null, temporaryPassword: false },
};

describe('user decider', () => {
  const spec = deciderSpec(userDecider);
  const bootstrap = { kind: 'BootstrapAdmin' as const, userId, username: 'admin', email: 'admin@example.com', tokenId };

  it('bootstrap creates the user and issues its token', () => {
    spec.given().when(bootstrap).then([
      { type: 'user.created', version: 1, data: created.data },
      { type: 'user.api-token-reset', version: 1, data: { userId, tokenId } },
    ]);
  });

  it('bootstrap of an existing user does nothing', () => {
    spec.given(created).when(bootstrap).thenNothing();
  });

  it('token reset of an unknown user is NOT_FOUND', () => {
    spec.given().when({ kind: 'ResetApiToken', userId, tokenId }).thenThrows('NOT_FOUND');
  });

  it('token reset issues the new token id', () => {
    spec.given(created).when({ kind: 'ResetApiToken', userId, tokenId }).then([{ type: 'user.api-token-reset', data: { userId, tokenId } }]);
  });

  it('events never carry a secret', () => {
    const events = spec.given().when(bootstrap).events();
    const keys = events.flatMap((e) => Object.keys(e.data));
    expect(keys).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(password|token|secret)$|hash/i)]));
    expect(JSON.stringify(events)).not.toContain('ppt_');
  });
});
