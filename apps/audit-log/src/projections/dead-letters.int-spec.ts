import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { MongoClient } from 'mongodb';
import { type JetStreamManager, type NatsConnection } from 'nats';
import {
  AuditLogSubjects,
  builtInRoleId,
  deadLetterStreamName,
  deadLetterSubject,
  validateEvent,
  type DomainEvent,
  type ReplayDeadLettersReply,
} from '@app/contracts';
import { loadConfig, startService, type RunningService } from '@app/platform';
import { eventProducer, natsRequest, serviceTestEnv, testDatabaseName, testMongo, testNats, testNaming, testPrefix } from '@app/testing';
import { AuditLogModule } from '../audit-log.module';
import { AUDIT_HOST } from './audit-host.token';
import { AuditProjectionHost } from './audit-projection.host';
import { entriesCollection } from './audit.projection';

/**
 * Issue item 4: the contract used to refuse valid non-ASCII emails, so the audit projection dead-lettered
 * `user.created` and the next `user.email-changed`. Here a host runs with that old check (a test hook), dead-letters
 * both (counted in /metrics), then the fixed projection is replayed with `npm run dlq:replay -- audit-log`: the
 * entries appear once, the dead-letter stream is empty, and a second replay changes nothing.
 */
describe('audit-log: dead letters replayed after a fix (real FerretDB + NATS JetStream)', () => {
  let mongo: MongoClient;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let service: RunningService;
  let identity: ReturnType<typeof eventProducer>;
  let membership: ReturnType<typeof eventProducer>;
  const org = randomUUID();
  const owner = randomUUID();
  const jose = randomUUID();

  /** the contract before the fix: ASCII emails only */
  const oldCheck = (event: DomainEvent) => {
    const problems = validateEvent(event);
    const data = event.data as { email?: string; previousEmail?: string };
    for (const e of [data.email, data.previousEmail]) if (e !== undefined && /[^\x20-\x7e]/.test(e)) problems.push('data/email must match format "email"');
    if (problems.length) throw new Error(`invalid event: ${problems.join('; ')}`);
  };
  const waiting = async () =>
    (await jsm.streams.info(deadLetterStreamName(testNaming()), { subjects_filter: testNaming().subject(deadLetterSubject('audit-log')) })).state.subjects?.[
      testNaming().subject(deadLetterSubject('audit-log'))
    ] ?? 0;
  const until = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const userEntries = async (resourceId: string) => entriesCollection(service.infra.db).find({ resourceId, resource: 'User' }).sort({ sortKey: 1 }).toArray();

  beforeAll(async () => {
    mongo = await testMongo();
    nc = await testNats();
    jsm = await nc.jetstreamManager();
    service = await startService(loadConfig('audit-log', serviceTestEnv('audit-log')), AuditLogModule);
    identity = eventProducer(mongo.db(testDatabaseName('identity')), 'identity', nc);
    membership = eventProducer(mongo.db(testDatabaseName('membership')), 'membership', nc);
    await identity.store.ensureIndexes();
    await membership.store.ensureIndexes();
  });
  afterAll(async () => {
    await identity?.stop();
    await membership?.stop();
    await service?.close();
    await nc?.close();
    await mongo?.close();
  });

  it('dead-letters under the old contract, then the replay writes each entry once and empties the dead-letter stream', async () => {
    const fixed = service.app.get<AuditProjectionHost>(AUDIT_HOST);
    await fixed.stop();
    const before = new AuditProjectionHost(service.infra, { check: oldCheck, renewEveryMs: 500 });
    before.start();
    try {
      await membership.append(`organization-${org}`, [
        { type: 'organization.created', version: 1, organizationId: org, data: { organizationId: org, name: 'Acme', slug: 'acme', ownerId: owner } },
        {
          type: 'organization.member-added',
          version: 1,
          organizationId: org,
          data: { organizationId: org, userId: owner, username: 'owner', roleId: builtInRoleId(org, 'owner'), via: 'creator' },
        },
      ]);
      const user = {
        userId: jose,
        username: 'jose',
        email: 'josé@example.com',
        name: 'José',
        createdBy: 'organization',
        managedByOrganizationId: org,
        temporaryPassword: true,
      };
      await identity.append(`user-${jose}`, [{ type: 'user.created', version: 1, data: user }], { actor: { id: owner, username: 'owner' } });
      await membership.append(`organization-${org}`, [
        {
          type: 'organization.member-added',
          version: 1,
          organizationId: org,
          data: { organizationId: org, userId: jose, username: 'jose', roleId: builtInRoleId(org, 'member'), via: 'account' },
        },
      ]);
      await identity.append(
        `user-${jose}`,
        [{ type: 'user.email-changed', version: 1, data: { userId: jose, email: 'jose@example.com', previousEmail: 'josé@example.com' } }],
        { actor: { id: jose, username: 'jose' } },
      );
      await until('both user events are dead-lettered', async () => (await waiting()) === 2);
    } finally {
      await before.stop();
    }
    expect(await userEntries(jose)).toEqual([]);
    expect(await service.infra.metrics.metrics()).toMatch(/dead_letter_events_total\{projection="audit-log",service="audit-log"\} 2/);

    // the fix is deployed (the real contract) and the documented command replays the dead letters
    fixed.start();
    const out = await new Promise<string>((resolvePromise, reject) => {
      const p = spawn('npm', ['run', '--silent', 'dlq:replay', '--', 'audit-log'], {
        cwd: resolve(__dirname, '../../../..'),
        env: { ...process.env, NATS_SUBJECT_PREFIX: testPrefix() },
      });
      let text = '';
      p.stdout.on('data', (d) => (text += d));
      p.stderr.on('data', (d) => (text += d));
      p.on('close', (code) => (code === 0 ? resolvePromise(text) : reject(new Error(`exit ${code}: ${text}`))));
    });
    expect(out).toContain('done: 2 replayed and removed from dlq.audit-log, 0 failed again (kept)');
    expect(await waiting()).toBe(0);

    const entries = await userEntries(jose);
    expect(entries.map((e) => [e.organizationId, e.resource, e.operation, e.metadata])).toEqual([
      [org, 'User', 'Added', expect.objectContaining({ email: 'josé@example.com' })],
      [org, 'User', 'Modified', expect.objectContaining({ email: 'jose@example.com', previousEmail: 'josé@example.com' })],
    ]);

    // a second replay changes nothing
    expect(await natsRequest<ReplayDeadLettersReply>(nc, AuditLogSubjects.replayDeadLetters(), {}, 60_000)).toEqual({
      projection: 'audit-log',
      replayed: 0,
      failed: 0,
    });
    expect(await userEntries(jose)).toHaveLength(2);
  });
});
