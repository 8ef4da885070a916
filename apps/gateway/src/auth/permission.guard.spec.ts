import 'reflect-metadata';
import { Reflector } from '@nestjs/core';
import type { ExecutionContext } from '@nestjs/common';
import { MembershipSubjects, type CheckPermissionsReply, type CheckPermissionsRequest } from '@app/contracts';
import type { ServicesClient } from '../common/services.client';
import { PermissionGuard } from './permission.guard';
import type { VerifiedTokens } from './verified-tokens';
import { AnyUser, OrganizationMember, RequirePermission, RequireProjectPermission } from './permission.decorator';
import { Public } from './public.decorator';

const ORG = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';

class Routes {
  @Public() open() {}
  @AnyUser() anyone() {}
  @OrganizationMember() member() {}
  @OrganizationMember({ checkedByRoute: true }) memberCheckedByRoute() {}
  @RequirePermission('organization.people.view') people() {}
  @RequireProjectPermission('project.delete') deleteProject() {}
  undeclared() {}
}

/**
 * The gateway's access index (access-index.ts) with `answer` as every organization's check: what the guard asks
 * and what it decides. Loading and consistency waits are the index's own (tested in access-index.spec.ts).
 */
function fakeVerified(answer: (req: CheckPermissionsRequest) => CheckPermissionsReply, asked: unknown[]): VerifiedTokens {
  const access = {
    load: async () => undefined,
    isRemote: () => false,
    reflects: async () => true,
    find: (organizationId: string) => ({
      check: (userId: string, projectId: string | null, permissions: string[]) => {
        const q = { organizationId, userId, projectId, permissions };
        asked.push(q);
        return answer(q);
      },
    }),
  };
  return { access } as unknown as VerifiedTokens;
}

/** The guard against a fake access index and membership answer (no transport): what it asks and what it decides. */
function run(
  handler: keyof Routes,
  params: Record<string, string>,
  answer: (req: CheckPermissionsRequest) => CheckPermissionsReply,
  guard?: PermissionGuard,
  services?: { call: (subject: string, body: CheckPermissionsRequest) => Promise<unknown> },
) {
  const asked: CheckPermissionsRequest[] = [];
  const fake = services ?? {
    call: async (subject: string, body: CheckPermissionsRequest) => {
      asked.push(body);
      // membership's answer to "the caller's organizations": the one organization `acme`
      return subject === MembershipSubjects.myOrganizations() ? { items: [{ id: ORG, name: 'Acme', slug: 'acme' }], nextCursor: null } : answer(body);
    },
  };
  const req = { params, user: { userId: 'u1' }, ctx: {} };
  const context = {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  const services_ = Object.assign(fake, { afterOf: () => undefined }) as unknown as ServicesClient;
  return { asked, req, result: (guard ?? new PermissionGuard(new Reflector(), services_, fakeVerified(answer, asked))).canActivate(context) };
}

const allow = (b: CheckPermissionsRequest): CheckPermissionsReply => ({ member: true, allowed: Object.fromEntries(b.permissions.map((p) => [p, true])) });
const deny = (b: CheckPermissionsRequest): CheckPermissionsReply => ({ member: true, allowed: Object.fromEntries(b.permissions.map((p) => [p, false])) });
const stranger = (b: CheckPermissionsRequest): CheckPermissionsReply => ({ member: false, allowed: Object.fromEntries(b.permissions.map((p) => [p, false])) });
const code = (c: string) => expect.objectContaining({ reply: expect.objectContaining({ code: c }) });

describe('PermissionGuard', () => {
  it('@Public and @AnyUser pass without a check', async () => {
    for (const h of ['open', 'anyone'] as const) {
      const { asked, result } = run(h, {}, deny);
      await expect(result).resolves.toBe(true);
      expect(asked).toEqual([]);
    }
  });

  it('a route without a declaration is refused', async () => {
    await expect(run('undeclared', { org: ORG }, allow).result).rejects.toEqual(code('FORBIDDEN'));
  });

  it('asks for the permission in :org (and :projectId), lowercased, and lets a holder through', async () => {
    const { asked, result } = run('deleteProject', { org: ORG.toUpperCase(), projectId: PROJECT }, allow);
    await expect(result).resolves.toBe(true);
    expect(asked).toEqual([{ organizationId: ORG, userId: 'u1', projectId: PROJECT, permissions: ['project.delete'] }]);
    const member = run('member', { org: ORG }, allow);
    await expect(member.result).resolves.toBe(true);
    expect(member.asked[0].permissions).toEqual([]);
  });

  it('a non-member (or a project outside the organization) is NOT_FOUND; a member without the permission FORBIDDEN naming it', async () => {
    await expect(run('people', { org: ORG }, stranger).result).rejects.toEqual(code('NOT_FOUND'));
    await expect(run('member', { org: ORG }, stranger).result).rejects.toEqual(code('NOT_FOUND'));
    const denied = run('people', { org: ORG }, deny).result;
    await expect(denied).rejects.toEqual(code('FORBIDDEN'));
    await expect(denied).rejects.toMatchObject({ reply: { message: expect.stringContaining('organization.people.view') } });
  });

  it('a member route that checks the caller itself: :org resolved (a slug to the id), no check', async () => {
    const { asked, req, result } = run('memberCheckedByRoute', { org: 'acme' }, stranger);
    await expect(result).resolves.toBe(true);
    expect(req.params.org).toBe(ORG);
    expect(asked).toEqual([{ userId: 'u1', all: true }]); // all the caller's organizations (the slug), no check
    await expect(run('memberCheckedByRoute', { org: 'not a slug!' }, allow).result).rejects.toEqual(code('NOT_FOUND'));
  });

  it('a malformed :org or :projectId is NOT_FOUND without asking', async () => {
    for (const [h, params] of [
      ['people', { org: 'not a slug!' }],
      ['people', { org: '-acme' }],
      ['deleteProject', { org: ORG, projectId: 'x' }],
      ['deleteProject', { org: ORG }],
    ] as const) {
      const { asked, result } = run(h, params, allow);
      await expect(result).rejects.toEqual(code('NOT_FOUND'));
      expect(asked).toEqual([]);
    }
  });

  it("a slug is resolved once to the id, from the caller's organizations, and replaces :org for the handler", async () => {
    const { asked, req, result } = run('people', { org: 'acme' }, allow);
    await expect(result).resolves.toBe(true);
    expect(req.params.org).toBe(ORG);
    expect(asked).toEqual([
      { userId: 'u1', all: true },
      { organizationId: ORG, userId: 'u1', projectId: null, permissions: ['organization.people.view'] },
    ]);
  });

  it('a known slug is answered from the cache; an unknown slug is NOT_FOUND', async () => {
    const subjects: string[] = [];
    const services = {
      call: async (subject: string) => {
        subjects.push(subject);
        return subject === MembershipSubjects.myOrganizations()
          ? { items: [{ id: ORG, name: 'Acme', slug: 'acme' }], nextCursor: null }
          : allow({ permissions: [] } as never);
      },
    };
    const guard = new PermissionGuard(
      new Reflector(),
      Object.assign(services, { afterOf: () => undefined }) as unknown as ServicesClient,
      fakeVerified(allow, []),
    );
    await expect(run('member', { org: 'acme' }, allow, guard).result).resolves.toBe(true);
    await expect(run('member', { org: 'ACME' }, allow, guard).result).resolves.toBe(true);
    expect(subjects.filter((s) => s === MembershipSubjects.myOrganizations())).toHaveLength(1);
    await expect(run('member', { org: 'nobody' }, allow, guard).result).rejects.toEqual(code('NOT_FOUND'));
  });
});
