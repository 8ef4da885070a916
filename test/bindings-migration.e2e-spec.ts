import { randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import type { NatsConnection } from 'nats';
import { AuthorizationSubjects, MembershipSubjects, PERMISSIONS, systemMeta, type RolesReply } from '@app/contracts';
import { natsOutcome, natsRequest, publishedEvents, testDatabaseName, testMongo, testNats } from '@app/testing';
import { createEventStore } from '@app/event-store';
import { loadOrganization } from '../apps/membership/src/organization/organization.repository';
import { startSystem, type RunningSystem } from './support/system';
import { legacyFixture, loadLegacyFixture, runMigrationCli } from './support/legacy-fixture';
import { asRecordedBeforeRoleGroups, observeOrganization } from './support/org-observation';

/**
 * The move of role bindings from authorization's `access-<org>` streams to the organization streams, on a real
 * history: test/fixtures/legacy-bindings/history.json, written by the services as they were before (see its
 * generate.ts), with what they answered then. Loaded into this file's fresh databases (every service's commits,
 * marked published) and a fresh JetStream namespace (the recorded messages, in their recorded order, with their
 * msg ids); then `npm run migrate:bindings` (twice: the second run changes nothing), then the services start
 * and answer as the old ones did: people list, roles, checks of every user × permission × project, audit
 * entries. And the decider's state — membership's organization stream alone, which before the migration held
 * none of the legacy bindings — answers every check as the old view did.
 */
const fixture = legacyFixture;
const ALL = PERMISSIONS.map((p) => p.name);

describe('npm run migrate:bindings on a history written before bindings moved to membership', () => {
  let mongo: MongoClient;
  let nc: NatsConnection;
  let system: RunningSystem | undefined;
  const migrate = runMigrationCli;

  beforeAll(async () => {
    mongo = await testMongo();
    nc = await testNats();
    await loadLegacyFixture(mongo, nc);
  }, 120_000);

  afterAll(async () => {
    await system?.close();
    await nc?.close();
    await mongo?.close();
  });

  it('imports every organization with legacy bindings once; a second run imports nothing', async () => {
    const first = await migrate();
    expect(first.stdout).toMatch(new RegExp(`read ${fixture.messages.length} events .* bindings imported into 2 organization\\(s\\)`));
    const again = await migrate();
    expect(again.stdout).toMatch(/bindings imported into 0 organization\(s\) in/);
    const imports = (await publishedEvents(nc)).filter((e) => e.type === 'organization.bindings-imported');
    expect(imports.map((e) => e.organizationId).sort()).toEqual(fixture.organizations.map((o) => o.organizationId).sort());
    expect(imports.every((e) => e.service === 'membership' && e.metadata.actor.id === 'system')).toBe(true);
  }, 300_000);

  it("membership's decider state (its organization stream alone) answers every check as the old view did", async () => {
    const db = mongo.db(testDatabaseName('membership'));
    const deps = { db, store: createEventStore(db, { service: 'membership' }) };
    for (const o of fixture.organizations) {
      const { state } = await loadOrganization(deps, o.organizationId);
      // the custom roles as authorization's write side has them (its stream in its database)
      const access = createEventStore(mongo.db(testDatabaseName('authorization')), { service: 'authorization' });
      const roles = new Map<string, { id: string; name: string; description: string; scope: 'organization' | 'project'; permissions: string[] }>();
      for (const e of await access.readStream(`access-${o.organizationId}`)) {
        const d = e.data as { roleId: string; name: string; description: string; scope: 'organization' | 'project'; permissions: string[] };
        if (e.type === 'role.deleted') roles.delete(d.roleId);
        else if (e.type === 'role.created' || e.type === 'role.changed')
          roles.set(d.roleId, { id: d.roleId, name: d.name, description: d.description, scope: d.scope, permissions: d.permissions });
      }
      const decided = state.withCustomRoles([...roles.values()]);
      for (const [key, expected] of Object.entries(o.expected.checks)) {
        const [userId, project] = key.split('|');
        expect({ key, ...decided.check(userId, project === '-' ? null : project, ALL) }).toEqual({ key, ...expected });
      }
    }
  });

  it('the services, started on the migrated history, answer as the old ones did: people, roles, checks, audit entries', async () => {
    system = await startSystem({ BOOTSTRAP_ADMIN_EMAIL: '', BOOTSTRAP_ADMIN_TOKEN: '' });
    for (const o of fixture.organizations) {
      const now = await observeOrganization(nc, o.organizationId, o.userIds, o.projectIds);
      expect(asRecordedBeforeRoleGroups(now.people)).toEqual(o.expected.people);
      expect(now.roles).toEqual(o.expected.roles);
      expect(now.checks).toEqual(o.expected.checks);
      expect(now.audit).toEqual(o.expected.audit);
    }
  }, 120_000);

  it('and decide on the imported bindings: an Owner bound before the move cannot be removed, nor made Member by an Admin', async () => {
    const [org] = fixture.organizations;
    const people = org.expected.people;
    const fay = people.find((p) => p.username === 'fay')!.id; // Owner through a legacy binding
    const ann = people.find((p) => p.username === 'ann')!.id; // Admin through a legacy binding
    await expect(natsRequest(nc, MembershipSubjects.removePerson(), { organizationId: org.organizationId, userId: fay })).rejects.toMatchObject({
      code: 'OWNER_PROTECTED',
    });
    const asAnn = async (subject: string, body: unknown) => {
      const outcome = await natsOutcome(nc, subject, body, { meta: { ...systemMeta(randomUUID()), actor: { id: ann }, medium: 'api' } });
      return outcome.ok ? 'ok' : outcome.code;
    };
    const member = people.find((p) => p.username === 'gus')!;
    expect(
      await asAnn(MembershipSubjects.assignRole(), {
        organizationId: org.organizationId,
        subjectType: 'user',
        subjectId: fay,
        projectId: null,
        roleId: member.roles[0].id,
      }),
    ).toBe('FORBIDDEN');
    // the Admin binds what an Admin holds
    expect(
      await asAnn(MembershipSubjects.assignRole(), {
        organizationId: org.organizationId,
        subjectType: 'user',
        subjectId: member.id,
        projectId: null,
        roleId: people.find((p) => p.username === 'ann')!.roles[0].id,
      }),
    ).toBe('ok');
    expect((await natsRequest<RolesReply>(nc, AuthorizationSubjects.roles(), { organizationId: org.organizationId })).roles.map((r) => r.name).sort()).toEqual([
      'Auditor',
      'Deployer',
      'Unused',
    ]);
  });
});
