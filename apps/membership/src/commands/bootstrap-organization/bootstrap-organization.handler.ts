import { bootstrapAdminUserId, IdentitySubjects, slugify, stableUuid, systemMeta, type UserProfile } from '@app/contracts';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { Reservations } from '@app/event-store';
import type { ServiceConfig } from '@app/platform';
import { runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { callService } from '../../common/rpc';

/** The bootstrap admin's username from identity (which starts it), else the part of the email before `@`. */
async function adminUsername(deps: { nc: NatsConnection }, email: string, userId: string): Promise<string> {
  for (let i = 0; i < 10; i++) {
    try {
      const user = await callService<UserProfile>(deps, IdentitySubjects.getUser(), { userId }, systemMeta(`bootstrap-org-user:${i}`), 1000);
      return user.username;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return email.split('@')[0].slice(0, 39);
}

/**
 * BOOTSTRAP_ORG_NAME (with BOOTSTRAP_ADMIN_EMAIL): a self-hosted installation's organization, owned by the
 * bootstrap admin, who joins it as Owner (via `bootstrap`) in the same commit. Ids and the command id derive
 * from the slug, so restarts and replicas create it once.
 */
export async function bootstrapOrganization(
  deps: { organizations: OrganizationDeps; reservations: Reservations; nc: NatsConnection; logger: Logger },
  config: ServiceConfig<'membership'>,
): Promise<void> {
  const name = config.BOOTSTRAP_ORG_NAME;
  const email = config.BOOTSTRAP_ADMIN_EMAIL;
  if (!name) return;
  if (!email) {
    deps.logger.warn('BOOTSTRAP_ORG_NAME is set without BOOTSTRAP_ADMIN_EMAIL: no organization created');
    return;
  }
  const slug = slugify(name);
  const organizationId = stableUuid(`bootstrap-org:${slug}`);
  if (!(await deps.reservations.claim('slug', slug, organizationId))) {
    deps.logger.warn({ slug }, 'bootstrap organization skipped: slug already taken');
    return;
  }
  const ownerId = bootstrapAdminUserId(email);
  const result = await runOrganizationCommand(
    deps.organizations,
    { kind: 'CreateOrganization', organizationId, name, slug, ownerId, ownerUsername: await adminUsername(deps, email, ownerId), via: 'bootstrap' },
    systemMeta(`bootstrap-organization:${slug}`),
  );
  await deps.reservations.confirm('slug', slug, organizationId);
  if (result.events.length) deps.logger.info({ organizationId, slug }, 'bootstrap organization created');
}
