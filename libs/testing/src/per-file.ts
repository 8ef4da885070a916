import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import {
  deadLetterStreamName,
  eventsStreamName,
  kvBucketName,
  subjectNaming,
  validateEvent,
  type DomainEvent,
  type Naming,
  type ServiceName,
} from '@app/contracts';
import { loadConfig, type ServiceConfig } from '@app/platform';
import { readLeasesStreamName } from '@app/messaging';

/**
 * Helpers for one test file. Every file runs in its own NATS subject namespace (a subject prefix drawn by
 * test/jest/setup-env.ts as TEST_SUBJECT_PREFIX) and its own databases, named `test_<namespace>_<service>` and
 * dropped afterwards. The prefix reaches the code under test only as configuration: the service configs built
 * here (`NATS_SUBJECT_PREFIX` of `serviceTestEnv`), and `testNaming()` for what a test publishes or reads itself.
 */
const usedDatabases = new Set<string>();

export function requireInfraEnv(): { mongoUrl: string; natsUrl: string } {
  const mongoUrl = process.env.MONGO_URL;
  const natsUrl = process.env.NATS_URL;
  if (!mongoUrl || !natsUrl) throw new Error('MONGO_URL / NATS_URL are not set: run the tests through jest (its global setup provides them)');
  return { mongoUrl, natsUrl };
}

/** This file's subject prefix (`t<hex>.`). */
export function testPrefix(): string {
  const p = process.env.TEST_SUBJECT_PREFIX;
  if (!p) throw new Error('TEST_SUBJECT_PREFIX is not set: test/jest/setup-env.ts must run before the test');
  return p;
}

/** This file's namespace on the NATS server, as the services under test get it from their config. */
export function testNaming(): Naming {
  return subjectNaming(testPrefix());
}

export function fileNamespace(): string {
  return testPrefix().replace(/\.$/, '');
}

export function testDatabaseName(name: string): string {
  const db = `test_${fileNamespace()}_${name.replace(/[^A-Za-z0-9]/g, '_')}`.slice(0, 60);
  usedDatabases.add(db);
  return db;
}

/** Environment of a service under test: this file's databases and namespace, quiet logs. */
export function serviceTestEnv(service: ServiceName, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { mongoUrl, natsUrl } = requireInfraEnv();
  return {
    MONGO_URL: mongoUrl,
    MONGO_DB: testDatabaseName(service),
    NATS_URL: natsUrl,
    NATS_SUBJECT_PREFIX: testPrefix(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...extra,
  };
}

export function serviceTestConfig<S extends ServiceName>(service: S, extra: Record<string, string> = {}): ServiceConfig<S> {
  return loadConfig(service, serviceTestEnv(service, extra));
}

export async function testMongo(): Promise<MongoClient> {
  return new MongoClient(requireInfraEnv().mongoUrl).connect();
}

export async function testNats(): Promise<NatsConnection> {
  return connect({ servers: requireInfraEnv().natsUrl });
}

export const randomId = (bytes = 4): string => randomBytes(bytes).toString('hex');

/** Every event in this file's events stream, in stream order. */
export async function publishedEvents(nc: NatsConnection): Promise<DomainEvent[]> {
  const stream = eventsStreamName(testNaming());
  const jsm = await nc.jetstreamManager();
  let last = 0;
  try {
    last = (await jsm.streams.info(stream)).state.last_seq;
  } catch {
    return [];
  }
  if (last === 0) return [];
  const js = nc.jetstream();
  const consumer = await js.consumers.get(stream);
  const codec = JSONCodec<DomainEvent>();
  const events: DomainEvent[] = [];
  while (events.length < last) {
    const m = await consumer.next({ expires: 2000 });
    if (!m) break;
    events.push(codec.decode(m.data));
    if (m.info.streamSequence >= last) break;
  }
  return events;
}

/**
 * Run after each test file: checks every event this file published against the contract, then removes
 * the file's streams and databases. A malformed or undocumented event fails the file.
 */
export async function checkContractAndCleanUp(): Promise<void> {
  if (!process.env.MONGO_URL || !process.env.NATS_URL || !process.env.TEST_SUBJECT_PREFIX) return;
  const nc = await testNats();
  let problems: string[] = [];
  try {
    const events = await publishedEvents(nc);
    problems = events.flatMap((e) => validateEvent(e).map((p) => `${e.type}.v${e.version} (${e.id}): ${p}`));
    const jsm = await nc.jetstreamManager();
    for (const name of [eventsStreamName(testNaming()), deadLetterStreamName(testNaming()), readLeasesStreamName(testNaming())])
      await jsm.streams.delete(name).catch(() => false);
    // KV buckets of this namespace (idempotency records, counters) are streams named KV_<prefix><bucket>
    for (const info of await jsm.streams.list().next())
      if (info.config.name.startsWith(`KV_${kvBucketName(testNaming(), '')}`)) await jsm.streams.delete(info.config.name).catch(() => false);
  } finally {
    await nc.close();
  }
  if (usedDatabases.size) {
    const mongo = await testMongo();
    try {
      for (const db of usedDatabases)
        await mongo
          .db(db)
          .dropDatabase()
          .catch(() => undefined);
      usedDatabases.clear();
    } finally {
      await mongo.close();
    }
  }
  if (problems.length) throw new Error(`events that break the contract (docs/events.md):\n${problems.join('\n')}`);
}
