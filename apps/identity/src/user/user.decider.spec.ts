import { validateEvent } from '@app/contracts';
import { asStored, deciderSpec } from '@app/testing';
import { userDecider, type UserCommand } from './user.decider';

const userId = '11111111-1111-4111-8111-111111111111';
const tokenId = '22222222-2222-4222-8222-222222222222';
const orgId = '33333333-3333-4333-8333-333333333333';
const otherOrgId = '44444444-4444-4444-8444-444444444444';

const created = {
  type: 'user.created',
  version: 1,
  data: {
    userId,
    username: 'admin',
    email: 'admin@example.com',
    name: 'admin',
    createdBy: 'bootstrap',
    managedByOrganizationId: null,
    temporaryPassword: false,
  },
};
const managed = {
  type: 'user.created',
  version: 1,
  data: { userId, username: 'tom', email: 'tom@example.com', name: 'Tom', createdBy: 'organization', managedByOrganizationId: orgId, temporaryPassword: true },
};
const firstLoginDone = { type: 'user.password-set', version: 1, data: { userId, temporary: false, reason: 'first-login', organizationId: null } };

describe('user decider', () => {
  const spec = deciderSpec(userDecider);
  const bootstrap = { kind: 'BootstrapAdmin' as const, userId, username: 'admin', email: 'admin@example.com', tokenId };
  const createAccount: UserCommand = { kind: 'CreateAccount', userId, username: 'tom', email: 'tom@example.com', name: 'Tom', organizationId: orgId };

  describe('BootstrapAdmin', () => {
    it('creates the user and issues its token', () => {
      spec
        .given()
        .when(bootstrap)
        .then([
          { type: 'user.created', version: 1, data: created.data },
          { type: 'user.api-token-reset', version: 1, data: { userId, tokenId } },
        ]);
    });
    it('does nothing for an existing user', () => {
      spec.given(created).when(bootstrap).thenNothing();
    });
  });

  describe('CreateAccount', () => {
    it('creates a managed account with a temporary password', () => {
      spec
        .given()
        .when(createAccount)
        .then([{ type: 'user.created', version: 1, data: managed.data }]);
    });
    it('does nothing when the account exists', () => {
      spec.given(managed).when(createAccount).thenNothing();
    });
    it('refuses a malformed username or email', () => {
      spec
        .given()
        .when({ ...createAccount, username: '-bad' } as UserCommand)
        .thenThrows('VALIDATION_FAILED');
      spec
        .given()
        .when({ ...createAccount, email: 'not-an-email' } as UserCommand)
        .thenThrows('VALIDATION_FAILED');
    });
  });

  describe('ChangeUsername', () => {
    it('emits username-changed', () => {
      spec
        .given(created)
        .when({ kind: 'ChangeUsername', userId, username: 'Boss' })
        .then([{ type: 'user.username-changed', data: { userId, username: 'Boss', previousUsername: 'admin' } }]);
    });
    it('a case change is a change', () => {
      spec
        .given(created)
        .when({ kind: 'ChangeUsername', userId, username: 'Admin' })
        .then([{ type: 'user.username-changed' }]);
    });
    it('does nothing for the same username', () => {
      spec.given(created).when({ kind: 'ChangeUsername', userId, username: 'admin' }).thenNothing();
    });
    it('refuses an invalid username and an unknown user', () => {
      spec.given(created).when({ kind: 'ChangeUsername', userId, username: 'a' }).thenThrows('VALIDATION_FAILED');
      spec.given(created).when({ kind: 'ChangeUsername', userId, username: 'has space' }).thenThrows('VALIDATION_FAILED');
      spec.given().when({ kind: 'ChangeUsername', userId, username: 'boss' }).thenThrows('NOT_FOUND');
    });
  });

  describe('ChangeScreenName', () => {
    it('emits screen-name-changed', () => {
      spec
        .given(created)
        .when({ kind: 'ChangeScreenName', userId, name: 'The Admin' })
        .then([{ type: 'user.screen-name-changed', data: { userId, name: 'The Admin', previousName: 'admin' } }]);
    });
    it('does nothing for the same name; refuses an empty one', () => {
      spec.given(created).when({ kind: 'ChangeScreenName', userId, name: 'admin' }).thenNothing();
      spec.given(created).when({ kind: 'ChangeScreenName', userId, name: '  ' }).thenThrows('VALIDATION_FAILED');
    });
  });

  describe('ChangeEmail', () => {
    it('emits email-changed', () => {
      spec
        .given(created)
        .when({ kind: 'ChangeEmail', userId, email: 'boss@example.com' })
        .then([{ type: 'user.email-changed', data: { userId, email: 'boss@example.com', previousEmail: 'admin@example.com' } }]);
    });
    it('does nothing for the same email; refuses a malformed one and an unknown user', () => {
      spec.given(created).when({ kind: 'ChangeEmail', userId, email: 'admin@example.com' }).thenNothing();
      spec.given(created).when({ kind: 'ChangeEmail', userId, email: 'nope' }).thenThrows('VALIDATION_FAILED');
      spec.given().when({ kind: 'ChangeEmail', userId, email: 'a@b.co' }).thenThrows('NOT_FOUND');
    });
  });

  describe('SetPassword', () => {
    const set = (newPassword: string, currentPassword = 'Temporary-123456789012'): UserCommand => ({
      kind: 'SetPassword',
      userId,
      newPassword,
      currentPassword,
    });
    it('at first login clears the temporary flag', () => {
      spec
        .given(managed)
        .when(set('a-long-enough-password'))
        .then([{ type: 'user.password-set', data: { userId, temporary: false, reason: 'first-login', organizationId: null } }]);
    });
    it('a later change also ends the other sessions', () => {
      spec
        .given(managed, firstLoginDone)
        .when(set('another-good-password', 'a-long-enough-password'))
        .then([
          { type: 'user.password-set', data: { userId, temporary: false, reason: 'changed', organizationId: null } },
          { type: 'user.sessions-ended', data: { userId, reason: 'password-changed' } },
        ]);
    });
    it.each([
      ['too short', 'short-pw'],
      ['too long', 'x'.repeat(257)],
      ['the email', 'TOM@example.com'],
      ['the temporary password', 'Temporary-123456789012'],
    ])('refuses a password that is %s with WEAK_PASSWORD', (_what, pw) => {
      spec.given(managed).when(set(pw)).thenThrows('WEAK_PASSWORD');
    });
    it('refuses the username (any case) with WEAK_PASSWORD', () => {
      const renamed = { type: 'user.username-changed', version: 1, data: { userId, username: 'tommy-the-tester', previousUsername: 'tom' } };
      spec.given(managed, renamed).when(set('Tommy-The-Tester')).thenThrows('WEAK_PASSWORD');
    });
    it('accepts exactly 10 and 256 characters', () => {
      expect(spec.given(managed).when(set('0123456789')).events()).toHaveLength(1);
      expect(
        spec
          .given(managed)
          .when(set('y'.repeat(256)))
          .events(),
      ).toHaveLength(1);
    });
    it('refuses an unknown user', () => {
      spec.given().when(set('a-long-enough-password')).thenThrows('NOT_FOUND');
    });
  });

  describe('ResetPasswordToTemporary', () => {
    it('by the managing organization: temporary password and every session ended', () => {
      spec
        .given(managed, firstLoginDone)
        .when({ kind: 'ResetPasswordToTemporary', userId, organizationId: orgId })
        .then([
          { type: 'user.password-set', data: { userId, temporary: true, reason: 'reset', organizationId: orgId } },
          { type: 'user.sessions-ended', data: { userId, reason: 'password-reset' } },
        ]);
    });
    it('of an account with a personal API token: the token is revoked too (the account may be compromised)', () => {
      const tokenIssued = { type: 'user.api-token-reset', version: 1, data: { userId, tokenId } };
      spec
        .given(managed, firstLoginDone, tokenIssued)
        .when({ kind: 'ResetPasswordToTemporary', userId, organizationId: orgId })
        .then([
          { type: 'user.password-set', data: { userId, temporary: true, reason: 'reset', organizationId: orgId } },
          { type: 'user.sessions-ended', data: { userId, reason: 'password-reset' } },
          { type: 'user.api-token-revoked', data: { userId, tokenId, reason: 'password-reset', organizationId: orgId } },
        ]);
      // revoked: no current token, and a second reset has nothing more to revoke
      const revoked = { type: 'user.api-token-revoked', version: 1, data: { userId, tokenId, reason: 'password-reset', organizationId: orgId } };
      expect(
        spec
          .given(managed, tokenIssued, revoked)
          .when({ kind: 'ResetPasswordToTemporary', userId, organizationId: orgId })
          .events()
          .map((e) => e.type),
      ).toEqual(['user.password-set', 'user.sessions-ended']);
      spec
        .given(managed, tokenIssued, revoked)
        .when({ kind: 'ResetApiToken', userId, tokenId })
        .then([{ type: 'user.api-token-reset', data: { userId, tokenId } }]);
    });
    it('by another organization, or of an account no organization manages: NOT_MANAGED_ACCOUNT', () => {
      spec.given(managed).when({ kind: 'ResetPasswordToTemporary', userId, organizationId: otherOrgId }).thenThrows('NOT_MANAGED_ACCOUNT');
      spec.given(created).when({ kind: 'ResetPasswordToTemporary', userId, organizationId: orgId }).thenThrows('NOT_MANAGED_ACCOUNT');
    });
    it('of an unknown user: NOT_FOUND', () => {
      spec.given().when({ kind: 'ResetPasswordToTemporary', userId, organizationId: orgId }).thenThrows('NOT_FOUND');
    });
  });

  describe('ResetApiToken', () => {
    it('issues the new token id', () => {
      spec
        .given(created)
        .when({ kind: 'ResetApiToken', userId, tokenId })
        .then([{ type: 'user.api-token-reset', data: { userId, tokenId } }]);
    });
    it('does nothing when the token id is already current', () => {
      spec
        .given(created, { type: 'user.api-token-reset', version: 1, data: { userId, tokenId } })
        .when({ kind: 'ResetApiToken', userId, tokenId })
        .thenNothing();
    });
    it('of an unknown user: NOT_FOUND', () => {
      spec.given().when({ kind: 'ResetApiToken', userId, tokenId }).thenThrows('NOT_FOUND');
    });
  });

  describe('EndSessions (logout)', () => {
    const ended = { type: 'user.sessions-ended', version: 1, data: { userId, reason: 'logout' } };
    it('ends every session of the user', () => {
      spec
        .given(managed, firstLoginDone)
        .when({ kind: 'EndSessions', userId, epoch: 0 })
        .then([{ type: 'user.sessions-ended', data: { userId, reason: 'logout' } }]);
    });
    it('does nothing when the session logging out has ended already (its epoch is past)', () => {
      spec.given(managed, firstLoginDone, ended).when({ kind: 'EndSessions', userId, epoch: 0 }).thenNothing();
      spec
        .given(managed, firstLoginDone, ended)
        .when({ kind: 'EndSessions', userId, epoch: 1 })
        .then([{ type: 'user.sessions-ended', data: { userId, reason: 'logout' } }]);
    });
    it('of an unknown user: NOT_FOUND', () => {
      spec.given().when({ kind: 'EndSessions', userId, epoch: 0 }).thenThrows('NOT_FOUND');
    });
  });

  it('every event it emits is valid against the catalogue and carries no secret', () => {
    const runs = [
      spec.given().when(bootstrap).events(),
      spec.given().when(createAccount).events(),
      spec.given(managed).when({ kind: 'SetPassword', userId, newPassword: 'secret-password-1', currentPassword: 'tmp-password-xyz' }).events(),
      spec
        .given(managed, firstLoginDone)
        .when({ kind: 'SetPassword', userId, newPassword: 'secret-password-2', currentPassword: 'secret-password-1' })
        .events(),
      spec.given(managed).when({ kind: 'ResetPasswordToTemporary', userId, organizationId: orgId }).events(),
      spec
        .given(managed, { type: 'user.api-token-reset', version: 1, data: { userId, tokenId } })
        .when({ kind: 'ResetPasswordToTemporary', userId, organizationId: orgId })
        .events(),
      spec.given(created).when({ kind: 'ChangeUsername', userId, username: 'boss' }).events(),
      spec.given(created).when({ kind: 'ChangeScreenName', userId, name: 'Boss' }).events(),
      spec.given(created).when({ kind: 'ChangeEmail', userId, email: 'boss@example.com' }).events(),
      spec.given(managed).when({ kind: 'EndSessions', userId, epoch: 0 }).events(),
    ];
    for (const events of runs) {
      for (const e of asStored(events)) expect(validateEvent({ ...e, streamId: `user-${userId}` })).toEqual([]);
      const json = JSON.stringify(events);
      expect(json).not.toMatch(/secret-password|tmp-password|ppt_|hash/i);
    }
  });
});
