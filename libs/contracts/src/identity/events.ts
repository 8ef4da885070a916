import { defineEvent, S } from '../catalogue';
import { Description, Email, EntityName, PersonName, Username } from '../fields';

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

// ------------------------------------------------------------------ service accounts (docs/identity.md "Service accounts")

const saRef = { serviceAccountId: S.uuid, organizationId: S.described(S.uuid, 'the organization that owns the service account') };
const saName = S.described(Username.schema, "the service account's name (a handle, unique in its organization regardless of case)");

export const ServiceAccountCreated = defineEvent({
  service: svc,
  type: 'service-account.created',
  version: 1,
  organizationScoped: true,
  description:
    'An organization created a service account: a non-human identity it owns, authenticated by its tokens only (it never logs in ' +
    "with a password). Its role in the organization is membership's (`organization.member-added`, `via` `service-account`).",
  data: S.obj({ ...saRef, name: saName, description: Description.schema, createdBy: S.described(S.uuid, 'the user who created it') }),
});

export const ServiceAccountDetailsChanged = defineEvent({
  service: svc,
  type: 'service-account.details-changed',
  version: 1,
  organizationScoped: true,
  description: "The service account's name or description changed.",
  data: S.obj({ ...saRef, name: saName, description: Description.schema, previousName: saName }),
});

export const ServiceAccountDeactivated = defineEvent({
  service: svc,
  type: 'service-account.deactivated',
  version: 1,
  organizationScoped: true,
  description: 'The service account was deactivated: every one of its tokens is refused until it is reactivated (they are kept).',
  data: S.obj({ ...saRef, name: saName }),
});

export const ServiceAccountReactivated = defineEvent({
  service: svc,
  type: 'service-account.reactivated',
  version: 1,
  organizationScoped: true,
  description: 'The service account was reactivated: its tokens that are neither revoked nor expired work again.',
  data: S.obj({ ...saRef, name: saName }),
});

export const ServiceAccountDeleted = defineEvent({
  service: svc,
  type: 'service-account.deleted',
  version: 1,
  organizationScoped: true,
  description:
    'The service account was deleted: every one of its tokens died with it (no separate `service-account.token-revoked`), and ' +
    'its name is free again in the organization.',
  data: S.obj({ ...saRef, name: saName }),
});

export const ServiceAccountTokenCreated = defineEvent({
  service: svc,
  type: 'service-account.token-created',
  version: 1,
  organizationScoped: true,
  description: "A token of the service account was issued. Carries the token's id, name and expiry, never the secret or its hash.",
  data: S.obj({
    ...saRef,
    tokenId: S.uuid,
    name: S.described(EntityName.schema, "the token's name"),
    expiresAt: S.described(S.nullable(S.isoDate), 'when the token stops working on its own (null: never)'),
  }),
});

export const ServiceAccountTokenRevoked = defineEvent({
  service: svc,
  type: 'service-account.token-revoked',
  version: 1,
  organizationScoped: true,
  description: "A token of the service account was revoked: it is refused from the next request on. Carries the token's id and name, never the secret.",
  data: S.obj({ ...saRef, tokenId: S.uuid, name: S.described(EntityName.schema, "the token's name") }),
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
  ServiceAccountCreated,
  ServiceAccountDetailsChanged,
  ServiceAccountDeactivated,
  ServiceAccountReactivated,
  ServiceAccountDeleted,
  ServiceAccountTokenCreated,
  ServiceAccountTokenRevoked,
] as const;
