import { defineEvent, S } from '../catalogue';
import { Email, PersonName, Username } from '../fields';

const svc = 'identity' as const;

export const UserCreated = defineEvent({
  service: svc,
  type: 'user.created',
  version: 1,
  organizationScoped: false,
  description: 'A user account was created, by bootstrap or by an organization (a managed account). ' + 'Never carries a password, token or hash.',
  data: S.obj(
    {
      userId: S.uuid,
      username: Username.schema,
      email: Email.schema,
      name: PersonName.schema,
      createdBy: S.oneOf('bootstrap', 'organization'),
      managedByOrganizationId: S.nullable(S.uuid),
      temporaryPassword: S.bool('whether the account must change its password at first login'),
    },
    ['userId', 'username', 'email', 'name', 'createdBy', 'managedByOrganizationId', 'temporaryPassword'],
  ),
});

export const UserApiTokenReset = defineEvent({
  service: svc,
  type: 'user.api-token-reset',
  version: 1,
  organizationScoped: false,
  description: 'The personal API token was (re)issued; the previous one stopped working. Carries the token id, never the secret.',
  data: S.obj({ userId: S.uuid, tokenId: S.uuid }),
});

export const UserApiTokenRevoked = defineEvent({
  service: svc,
  type: 'user.api-token-revoked',
  version: 1,
  organizationScoped: false,
  description:
    'The personal API token was revoked without a new one: the managing organization reset the password, and the account ' +
    'may be compromised. The user sets a new token after logging in. Carries the token id, never the secret.',
  data: S.obj({
    userId: S.uuid,
    tokenId: S.uuid,
    reason: S.oneOf('password-reset'),
    organizationId: S.described(S.uuid, 'the organization that reset the password'),
  }),
});

export const UserUsernameChanged = defineEvent({
  service: svc,
  type: 'user.username-changed',
  version: 1,
  organizationScoped: false,
  description: 'The user changed their username (handle). Usernames are unique regardless of case.',
  data: S.obj({ userId: S.uuid, username: Username.schema, previousUsername: Username.schema }),
});

export const UserScreenNameChanged = defineEvent({
  service: svc,
  type: 'user.screen-name-changed',
  version: 1,
  organizationScoped: false,
  description: 'The user changed their display name.',
  data: S.obj({ userId: S.uuid, name: PersonName.schema, previousName: PersonName.schema }),
});

export const UserEmailChanged = defineEvent({
  service: svc,
  type: 'user.email-changed',
  version: 1,
  organizationScoped: false,
  description: 'The user changed their email address. Emails are unique regardless of case.',
  data: S.obj({ userId: S.uuid, email: Email.schema, previousEmail: Email.schema }),
});

export const UserPasswordSet = defineEvent({
  service: svc,
  type: 'user.password-set',
  version: 1,
  organizationScoped: false,
  description:
    'A password was set: by the user at first login (`first-login`) or later (`changed`), or a temporary one by the ' +
    'managing organization (`reset`, then `temporary` is true and the user must change it at next login). ' +
    'Never carries the password or its hash.',
  data: S.obj({
    userId: S.uuid,
    temporary: S.bool(),
    reason: S.oneOf('first-login', 'changed', 'reset'),
    organizationId: S.described(S.nullable(S.uuid), 'the organization that reset it (reason `reset`), else null'),
  }),
});

export const UserSessionsEnded = defineEvent({
  service: svc,
  type: 'user.sessions-ended',
  version: 1,
  organizationScoped: false,
  description:
    'Every login session of the user ended at once (their password was reset by the managing organization, or changed by ' +
    'the user, or the user logged out: `logout` ends every session of the caller). Session tokens issued before this event are ' +
    'rejected from then on. The personal API token is not ' +
    'affected by this event (a reset by the organization revokes it with `user.api-token-revoked`).',
  data: S.obj({ userId: S.uuid, reason: S.oneOf('password-reset', 'password-changed', 'logout') }),
});

export const IDENTITY_EVENTS = [
  UserCreated,
  UserApiTokenReset,
  UserApiTokenRevoked,
  UserUsernameChanged,
  UserScreenNameChanged,
  UserEmailChanged,
  UserPasswordSet,
  UserSessionsEnded,
] as const;
