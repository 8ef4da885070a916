import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import {
  AccessSubjects,
  AuthorizationSubjects,
  bootstrapAdminUserId,
  builtInRoleId,
  MembershipSubjects,
  systemMeta,
  type CheckPermissionsReply,
  type CreateAccountsReply,
  type Page,
  type PersonView,
  type RoleView,
} from '@app/contracts';
import { loadConfig, startService, type RunningService } from '@app/platform';
import { natsOutcome, serviceTestEnv, testNats } from '@app/testing';
import { AuthorizationModule } from '../apps/authorization/src/authorization.module';
import { IdentityModule } from '../apps/identity/src/identity.module';
import { MembershipModule } from '../apps/membership/src/membership.module';
import { BOOTSTRAP_EMAIL, BOOTSTRAP_TOKEN, eventually } from './support/system';

/**
 * Races between people and their roles, sent straight over NATS (as any client of the commands can) to two
 * membership replicas, an authorization and an identity replica (no gateway, no audit log: the machine's time
 * goes to the commands):
 * - "make X Owner" and "remove X" at the same time: both are decided by membership's organization decider on
 *   the organization stream, so the second sees the first — never both answered with X removed (before, the
 *   binding was authorization's and the Owner check a query inside the removal: both could succeed);
 * - binding a custom role R to X while R is deleted: the binding is checked against the roles authorization's
 *   write side has, the deletion's in-use check reads its view, which may lag — so both may succeed, and then X
 *   counts as Member (docs/architecture.md, "Concurrency with a fact from another service").
 */
describe('races between bindings, removals and role deletions (over NATS)', () => {
  const services: RunningService[] = [];
  let nc: NatsConnection;
  let org = '';
  let owner = '';

  const send = <T>(subject: string, body: unknown, actorId = owner) =>
    natsOutcome<T>(nc, subject, body, {
      meta: { ...systemMeta(randomUUID()), actor: { id: actorId, username: actorId === owner ? 'admin' : 'someone' }, medium: 'api' },
      timeoutMs: 30_000,
    });
  async function must<T>(subject: string, body: unknown): Promise<T> {
    const r = await send<T>(subject, body);
    if (!r.ok) throw new Error(`${subject}: ${r.code}`);
    return r.value;
  }
  /** `n` accounts created by the organization: they join as Members */
  async function members(n: number, prefix: string): Promise<Array<{ userId: string; username: string }>> {
    const accounts = Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, username: `${prefix}${i}` }));
    const reply = await must<CreateAccountsReply>(MembershipSubjects.createAccounts(), { organizationId: org, accounts });
    return reply.created.map((c) => ({ userId: c.userId, username: c.username! }));
  }
  const outcome = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : (r as { code: string }).code);

  beforeAll(async () => {
    const env = (service: 'identity' | 'membership' | 'authorization') =>
      loadConfig(service, serviceTestEnv(service, { BOOTSTRAP_ADMIN_EMAIL: BOOTSTRAP_EMAIL, BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP_TOKEN }));
    services.push(await startService(env('identity'), IdentityModule));
    services.push(await startService(env('authorization'), AuthorizationModule.register()));
    for (let i = 0; i < 2; i++) services.push(await startService(env('membership'), MembershipModule));
    nc = await testNats();
    owner = bootstrapAdminUserId(BOOTSTRAP_EMAIL);
    org = (await must<{ id: string }>(MembershipSubjects.createOrganization(), { name: 'Race Org' })).id;
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    for (const s of services.reverse()) await s.close();
  }, 120_000);

  it('200 rounds of "make X Owner" and "remove X" at once: never both answered with X removed', async () => {
    const people = await members(200, 'x');
    const tally: Record<string, number> = {};
    const started = Date.now();
    for (const x of people) {
      const [bind, removal] = await Promise.all([
        send(MembershipSubjects.assignRole(), {
          organizationId: org,
          subjectType: 'user',
          subjectId: x.userId,
          projectId: null,
          roleId: builtInRoleId(org, 'owner'),
        }),
        send(MembershipSubjects.removePerson(), { organizationId: org, userId: x.userId }),
      ]);
      const pair = `${outcome(bind)}/${outcome(removal)}`;
      tally[pair] = (tally[pair] ?? 0) + 1;
      expect(pair === 'ok/OWNER_PROTECTED' || pair === 'NOT_FOUND/ok').toBe(true);
    }
    // the authorization view agrees: the removed are not members, the others are Owners
    for (const x of people.slice(0, 20)) {
      const { member, allowed } = await must<CheckPermissionsReply>(AuthorizationSubjects.check(), {
        organizationId: org,
        userId: x.userId,
        permissions: ['organization.change_owner'],
      });
      expect(member).toBe(allowed['organization.change_owner']);
    }
    process.stdout.write(`owner/remove race: ${JSON.stringify(tally)} in ${Date.now() - started} ms\n`);
  }, 180_000);

  it('40 rounds of binding a custom role R to X while R is deleted: one is refused, or X counts as Member (checks and the people list)', async () => {
    const people = await members(40, 'y');
    const tally: Record<string, number> = {};
    const expected = new Map<string, { id: string; name: string }>();
    for (const [i, x] of people.entries()) {
      const role = await must<RoleView>(AccessSubjects.createRole(), {
        organizationId: org,
        name: `Okta ${i}`,
        description: '',
        scope: 'organization',
        permissions: ['organization.okta.view'],
      });
      const [bind, deletion] = await Promise.all([
        send(MembershipSubjects.assignRole(), { organizationId: org, subjectType: 'user', subjectId: x.userId, projectId: null, roleId: role.id }),
        send(AccessSubjects.deleteRole(), { organizationId: org, roleId: role.id }),
      ]);
      const pair = `${outcome(bind)}/${outcome(deletion)}`;
      tally[pair] = (tally[pair] ?? 0) + 1;
      expect(['ok/ROLE_IN_USE', 'NOT_FOUND/ok', 'ok/ok']).toContain(pair);
      const check = await must<CheckPermissionsReply>(AuthorizationSubjects.check(), {
        organizationId: org,
        userId: x.userId,
        permissions: ['organization.okta.view', 'organization.secrets.manage'],
      });
      if (pair === 'ok/ROLE_IN_USE') {
        expect(check.allowed['organization.okta.view']).toBe(true);
        expected.set(x.userId, { id: role.id, name: `Okta ${i}` });
      } else {
        // never bound, or bound to a role that is gone: Member
        expect(check.allowed).toEqual({ 'organization.okta.view': false, 'organization.secrets.manage': true });
        expected.set(x.userId, { id: builtInRoleId(org, 'member'), name: 'Member' });
      }
    }
    // the people list, once its read model has caught up with the rounds
    const listed = await eventually(
      async () => {
        const all: PersonView[] = [];
        for (let cursor: string | null | undefined; cursor !== null; ) {
          const page = await must<Page<PersonView>>(MembershipSubjects.listPeople(), {
            organizationId: org,
            type: 'user',
            limit: 200,
            ...(cursor ? { cursor } : {}),
          });
          all.push(...page.items);
          cursor = page.nextCursor;
        }
        return all;
      },
      60_000,
      'the people list',
    );
    for (const x of people)
      expect({ user: x.username, roles: listed.find((p) => p.id === x.userId)?.roles }).toEqual({
        user: x.username,
        roles: [{ ...expected.get(x.userId), source: 'direct' }],
      });
    process.stdout.write(`bind/delete race: ${JSON.stringify(tally)}\n`);
  }, 180_000);
});
