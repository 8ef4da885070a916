import type { MongoClient } from 'mongodb';
import type { NatsConnection } from 'nats';
import { publishedEvents, testMongo, testNats } from '@app/testing';
import { startSystem, type RunningSystem } from './support/system';
import { asRecordedBeforeRoleGroups, observeOrganization } from './support/org-observation';
import { legacyFixture as fixture, loadLegacyFixture, runMigrationCli } from './support/legacy-fixture';

/**
 * An installation upgraded without running `npm run migrate:bindings`: membership imports the legacy bindings
 * itself when it starts, before it answers a command, once (docs/operations.md "Moving role bindings").
 */
describe('membership imports the role bindings of an earlier version when it starts', () => {
  let mongo: MongoClient;
  let nc: NatsConnection;
  let system: RunningSystem | undefined;

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

  it('started on the legacy history, the services answer as the old ones did, and the import ran once', async () => {
    system = await startSystem({ BOOTSTRAP_ADMIN_EMAIL: '', BOOTSTRAP_ADMIN_TOKEN: '' });
    for (const o of fixture.organizations) {
      const now = await observeOrganization(nc, o.organizationId, o.userIds, o.projectIds);
      expect(asRecordedBeforeRoleGroups(now.people)).toEqual(o.expected.people);
      expect(now.checks).toEqual(o.expected.checks);
    }
    const imports = (await publishedEvents(nc)).filter((e) => e.type === 'organization.bindings-imported');
    expect(imports.map((e) => e.organizationId).sort()).toEqual(fixture.organizations.map((o) => o.organizationId).sort());
    // the command line finds nothing left to import
    const { stdout } = await runMigrationCli();
    expect(stdout).toMatch(/bindings imported into 0 organization\(s\)/);
  }, 300_000);
});
