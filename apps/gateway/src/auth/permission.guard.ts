import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode, MembershipSubjects, type OrganizationView, type Page } from '@app/contracts';
import { UUID_PATTERN } from '../common/path-id.pipe';
import { ServiceError } from '../common/service-error';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { resolveOrganization, SlugCache } from './organization-slugs';
import { routeRules } from './route-rules';
import { checkAccess } from './access-check';
import { VERIFIED_TOKENS, type VerifiedTokens } from './verified-tokens';

export const notFound = () => new ServiceError({ code: ErrorCode.NOT_FOUND, message: 'not found' });
export const forbidden = (permission: string) =>
  new ServiceError({ code: ErrorCode.FORBIDDEN, message: `missing permission ${permission}`, details: { permission } });

/**
 * Global guard, after the bearer guard: enforces what the route declares (permission.decorator.ts). Not a
 * member of `:org` (or `:projectId` not in it, or either not a UUID) → 404 NOT_FOUND, so existence is not
 * leaked; a member without the permission → 403 FORBIDDEN naming it. A route that declares nothing is refused
 * (and a test makes sure none exists). `:org` may be a slug: resolved here, once, to the id, which replaces it
 * in the request's parameters, so handlers and their pipes only ever see the id (docs/api.md "Addressing").
 */
@Injectable()
export class PermissionGuard implements CanActivate {
  private readonly slugs = new SlugCache();

  constructor(
    private readonly reflector: Reflector,
    private readonly services: ServicesClient,
    @Inject(VERIFIED_TOKENS) private readonly verified: VerifiedTokens,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const { isPublic, requirement } = routeRules(this.reflector, context);
    if (isPublic) return true;
    if (!requirement) throw new ServiceError({ code: ErrorCode.FORBIDDEN, message: 'this route declares no permission' });
    const req = context.switchToHttp().getRequest<GatewayRequest>();
    if (requirement.kind === 'any-user') {
      if (req.user?.tokenKind === 'service-account' && !requirement.serviceAccounts)
        throw new ServiceError({ code: ErrorCode.FORBIDDEN, message: 'a service account cannot do this (it is for people)' });
      return true;
    }

    const params = (req.params ?? {}) as Record<string, unknown>;
    const projectId = requirement.kind === 'project' ? params.projectId : undefined;
    if (requirement.kind === 'project' && (typeof projectId !== 'string' || !UUID_PATTERN.test(projectId))) throw notFound();
    const org = await resolveOrganization(params.org, this.slugs, async () => {
      const mine = await this.services.call<Page<OrganizationView>>(MembershipSubjects.myOrganizations(), { userId: req.user!.userId, all: true }, req);
      return mine.items;
    });
    if (!org) throw notFound();
    params.org = org;
    if (requirement.kind === 'member' && requirement.checkedByRoute) return true;
    const permissions = requirement.kind === 'member' ? [] : [requirement.permission];
    const reply = await checkAccess(this.verified, this.services, req, {
      organizationId: org,
      userId: req.user!.userId,
      projectId: typeof projectId === 'string' ? projectId.toLowerCase() : null,
      permissions,
    });
    if (!reply.member) throw notFound();
    for (const p of permissions) if (!reply.allowed[p]) throw forbidden(p);
    return true;
  }
}
