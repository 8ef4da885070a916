import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MongoClient } from 'mongodb';
import { headers, type NatsConnection } from 'nats';
import { ensureStreams } from '@app/messaging';
import { serviceTestEnv, testDatabaseName, testNaming } from '@app/testing';
import { createEventStore } from '@app/event-store';
import type { OrganizationObservation } from './org-observation';

/**
 * test/fixtures/legacy-bindings/history.json: a history written by the services as they were before role
 * bindings moved to membership (see its generate.ts), with what they answered then.
 */
export interface LegacyFixture {
  messages: Array<{ seq: number; subject: string; msgId: string; correlationId: string; event: { id: string } }>;
  commits: Record<'identity' | 'membership' | 'authorization', Array<Record<string, unknown> & { committedAt: string }>>;
  organizations: Array<{ organizationId: string; userIds: string[]; projectIds: string[]; expected: OrganizationObservation }>;
}

export const legacyFixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/legacy-bindings/history.json'), 'utf8')) as LegacyFixture;

/**
 * Loads the fixture into this test file's fresh databases (every service's commits, marked published) and
 * its fresh JetStream namespace (the recorded messages, in their recorded order, with their msg ids).
 */
export async function loadLegacyFixture(mongo: MongoClient, nc: NatsConnection): Promise<void> {
  for (const [service, commits] of Object.entries(legacyFixture.commits)) {
    const store = createEventStore(mongo.db(testDatabaseName(service)), { service: service as keyof LegacyFixture['commits'] });
    await store.ensureIndexes();
    await store.commits.insertMany(commits.map((c) => ({ ...c, committedAt: new Date(c.committedAt), published: true })) as never);
  }
  await ensureStreams(nc, testNaming());
  const js = nc.jetstream();
  for (const m of legacyFixture.messages) {
    const h = headers();
    h.set('Correlation-Id', m.correlationId);
    const ack = await js.publish(testNaming().subject(m.subject), JSON.stringify(m.event), { msgID: m.msgId, headers: h });
    if (ack.seq !== m.seq) throw new Error(`fixture message ${m.msgId} stored at sequence ${ack.seq}, recorded at ${m.seq}`);
  }
}

/** `npm run migrate:bindings` as an operator runs it, with this test file's membership configuration; its output. */
export async function runMigrationCli(): Promise<{ stdout: string }> {
  return promisify(execFile)('npx', ['ts-node', '--transpile-only', '-r', 'tsconfig-paths/register', 'apps/membership/src/cli/migrate-bindings.ts'], {
    cwd: join(__dirname, '../..'),
    env: { ...process.env, ...serviceTestEnv('membership'), LOG_LEVEL: 'silent' },
    timeout: 120_000,
  });
}
