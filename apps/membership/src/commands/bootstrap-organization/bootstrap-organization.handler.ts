import { bootstrapAdminUserId, IdentitySubjects, slugify, stableUuid, systemMeta, type UserProfile } from '@app/contracts';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { runOrganizationCommand } from '../../organization/organization.repository';
import { organizationDeps } from '../../organization/organization.deps';
import { callService } from '../../common/rpc';

/** The bootstrap admin's username from identity (which starts it), else the part of the email before `@`. */
async function adminUsername(infra: Infrastructure, email: string, userId: string): Promise<string> {
  for (let i = 0; i < 10; i++) {
    try {
      const user = await callService<UserProfile>(infra, IdentitySubjects.getUser(), { userId }, systemMeta(`bootstrap-org-user:${i}`), 1000);
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
export async function bootstrapOrganization(infra: Infrastructure, config: ServiceConfig<'membership'>): Promise<void> {
  const name = config.BOOTSTRAP_ORG_NAME;
  const email = config.BOOTSTRAP_ADMIN_EMAIL;
  if (!name) return;
  if (!email) {
    infra.logger.warn('BOOTSTRAP_ORG_NAME is set without BOOTSTRAP_ADMIN_EMAIL: no organization created');
    return;
  }
  const slug = slugify(name);
  const organizationId = stableUuid(`bootstrap-org:${slug}`);
  if (!(await infra.reservations.claim('slug', slug, organizationId))) {
    infra.logger.warn({ slug }, 'bootstrap organization skipped: slug already taken');
    return;
  }
  const ownerId = bootstrapAdminUserId(email);
  const result = await runOrganizationCommand(
    organizationDeps(infra),
    { kind: 'CreateOrganization', organizationId, name, slug, ownerId, ownerUsername: await adminUsername(infra, email, ownerId), via: 'bootstrap' },
    systemMeta(`bootstrap-organization:${slug}`),
  );
  await infra.reservations.confirm('slug', slug, organizationId);
  if (result.events.length) infra.logger.info({ organizationId, slug }, 'bootstrap organization created');
}
