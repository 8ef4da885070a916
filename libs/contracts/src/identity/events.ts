import { defineEvent, S } from '../catalogue';

const svc = 'identity' as const;

export const UserCreated = defineEvent({
  service: svc,
  type: 'user.created',
  version: 1,
  organizationScoped: false,
  description:
    'A user account was created, by bootstrap or by an organization (a managed account). ' +
    'Never carries a password, token or hash.',
  data: S.obj(
    {
      userId: S.uuid,
      username: S.str(39),
      email: S.email,
      name: S.str(200),
      createdBy: S.oneOf('bootstrap', 'organization'),
      managedByOrganizationId: { anyOf: [S.uuid, { type: 'null' }] },
      temporaryPassword: { type: 'boolean', description: 'whether the account must change its password at first login' },
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

export const IDENTITY_EVENTS = [UserCreated, UserApiTokenReset] as const;
