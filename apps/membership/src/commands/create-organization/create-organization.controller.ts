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
import type { Reservations } from '@app/event-store';
import { RESERVATIONS } from '@app/platform';
import { earlierCommit, runOrganizationCommand, type OrganizationDeps } from '../../organization/organization.repository';
import { ORGANIZATION_DEPS } from '../../organization/organization.deps';

export async function createOrganization(
  deps: { organizations: OrganizationDeps; reservations: Reservations },
  req: CreateOrganizationRequest,
  meta: CommandMeta,
): Promise<OrganizationView> {
  const name = req.name;
  const slug = req.slug ?? slugify(name);
  // a slug made of the name may still be unfit (a name of symbols only): the contract checks only one given
  if (!SLUG_PATTERN.test(slug)) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'slug must be lowercase letters, digits and "-" (1 to 50)');
  if (!meta.actor.id || meta.actor.id === 'anonymous') throw new DomainError(ErrorCode.UNAUTHENTICATED, 'a user must create the organization');
  // a retried command (same id, e.g. a gateway that died mid-request) gets its first outcome
  const earlier = await earlierCommit(deps.organizations, meta.commandId);
  if (earlier) return earlier.reply as OrganizationView;
  // ids derive from the command id: a copy of the command that runs while the first is still in progress
  // (a client retrying with the same Idempotency-Key) decides on the same organization, group or project
  const organizationId = stableUuid(`organization:${meta.commandId}`);
  if (!(await deps.reservations.claim('slug', slug, organizationId))) throw new DomainError(ErrorCode.SLUG_TAKEN, `the slug ${slug} is taken`, { slug });
  try {
    await runOrganizationCommand(
      deps.organizations,
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
    await deps.reservations.release('slug', slug, organizationId);
    throw err;
  }
  await deps.reservations.confirm('slug', slug, organizationId);
  return { id: organizationId, name, slug };
}

/** The slug is reserved before the organization's first commit and given back if the command is refused. */
@Controller()
export class CreateOrganizationController {
  constructor(
    @Inject(ORGANIZATION_DEPS) private readonly organizations: OrganizationDeps,
    @Inject(RESERVATIONS) private readonly reservations: Reservations,
  ) {}

  @MessagePattern(MembershipSubjects.createOrganization())
  create(@Payload() m: Message<CreateOrganizationRequest>): Promise<OrganizationView> {
    return createOrganization({ organizations: this.organizations, reservations: this.reservations }, m.body, m.meta);
  }
}
