import { bootstrapAdminUserId, slugify, stableUuid, systemMeta } from '@app/contracts';
import { handleCommand } from '@app/event-store';
import type { Infrastructure, ServiceConfig } from '@app/platform';
import { organizationDecider } from '../../organization/organization.decider';
import { organizationStreamId } from '../../organization/organization.state';

/**
 * BOOTSTRAP_ORG_NAME (with BOOTSTRAP_ADMIN_EMAIL): a self-hosted installation's organization, owned by the
 * bootstrap admin. Ids and the command id derive from the slug, so restarts and replicas create it once.
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
  const streamId = organizationStreamId(organizationId);
  const result = await handleCommand(
    infra.store,
    organizationDecider,
    streamId,
    { kind: 'CreateOrganization', organizationId, name, slug, ownerId: bootstrapAdminUserId(email) },
    systemMeta(`bootstrap-organization:${slug}`),
  );
  await infra.reservations.confirm('slug', slug, organizationId);
  if (result.commit && !result.duplicate) {
    await infra.relay.flushStream(streamId);
    infra.logger.info({ organizationId, slug }, 'bootstrap organization created');
  }
}
