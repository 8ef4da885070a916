import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  DomainError,
  ErrorCode,
  MembershipSubjects,
  SLUG_PATTERN,
  slugify,
  stableUuid,
  type CommandMeta,
  type CreateOrganizationRequest,
  type Message,
  type OrganizationView,
} from '@app/contracts';
import { INFRA, type Infrastructure } from '@app/platform';
import { earlierCommit } from '../../organization/organization.repository';
import { organizationDeps } from '../../organization/organization.deps';
import { runOrganization } from '../../organization/organization-command.runner';

export async function createOrganization(infra: Infrastructure, req: CreateOrganizationRequest, meta: CommandMeta): Promise<OrganizationView> {
  const name = req.name;
  const slug = req.slug ?? slugify(name);
  // a slug made of the name may still be unfit (a name of symbols only): the contract checks only one given
  if (!SLUG_PATTERN.test(slug)) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'slug must be lowercase letters, digits and "-" (1 to 50)');
  if (!meta.actor.id || meta.actor.id === 'anonymous') throw new DomainError(ErrorCode.UNAUTHENTICATED, 'a user must create the organization');
  // a retried command (same id, e.g. a gateway that died mid-request) gets its first outcome
  const earlier = await earlierCommit(organizationDeps(infra), meta.commandId);
  if (earlier) return earlier.reply as OrganizationView;
  // ids derive from the command id: a copy of the command that runs while the first is still in progress
  // (a client retrying with the same Idempotency-Key) decides on the same organization, group or project
  const organizationId = stableUuid(`organization:${meta.commandId}`);
  if (!(await infra.reservations.claim('slug', slug, organizationId))) throw new DomainError(ErrorCode.SLUG_TAKEN, `the slug ${slug} is taken`, { slug });
  try {
    await runOrganization(
      infra,
      {
        kind: 'CreateOrganization',
        organizationId,
        name,
        slug,
        ownerId: meta.actor.id,
        ownerUsername: meta.actor.username ?? meta.actor.id,
        via: 'creator',
      },
      meta,
      () => ({ id: organizationId, name, slug }),
    );
  } catch (err) {
    await infra.reservations.release('slug', slug, organizationId);
    throw err;
  }
  await infra.reservations.confirm('slug', slug, organizationId);
  return { id: organizationId, name, slug };
}

/** The slug is reserved before the organization's first commit and given back if the command is refused. */
@Controller()
export class CreateOrganizationController {
  constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

  @MessagePattern(MembershipSubjects.createOrganization())
  create(@Payload() m: Message<CreateOrganizationRequest>): Promise<OrganizationView> {
    return createOrganization(this.infra, m.body, m.meta);
  }
}
