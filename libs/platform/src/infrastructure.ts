import type { Db, MongoClient } from 'mongodb';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { Counter, Registry } from 'prom-client';
import { subjectNaming, type Naming, type ServiceName } from '@app/contracts';
import {
  createEventStore,
  createOutboxRelay,
  createReservations,
  type EventStore,
  type OutboxRelay,
  type ConsumerMetrics,
  type Reservations,
  type UpcasterRegistry,
} from '@app/event-store';
import { ensureStreams, jetStreamManager, rpcClient } from '@app/messaging';
import { createProcessMetrics, outboxGauges } from './metrics';
import { createLogger } from './logger';
import { connectMongo, connectNatsWithRetry } from './connect';
import type { ServiceConfig } from './config';

/**
 * Everything a service needs from the outside world, connected and ready: the composition root's object
 * (`startService` provides its parts one by one, see providers.ts; the CLIs pass its parts on).
 */
export interface Infrastructure {
  service: ServiceName;
  config: ServiceConfig<ServiceName>;
  /** the installation's namespace on the NATS server (`NATS_SUBJECT_PREFIX` of the config): subjects, streams, buckets */
  naming: Naming;
  logger: Logger;
  mongo: MongoClient;
  db: Db;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  store: EventStore;
  relay: OutboxRelay;
  reservations: Reservations;
  metrics: Registry;
  /** consumers report their lag here (`metrics` option of consumeEvents / runProjection) */
  consumerMetrics: ConsumerMetrics;
  deadLetters: Counter<'projection'>;
  /** stops the relay, then closes the connections (what was started on them is stopped before: Nest's shutdown hooks) */
  close(): Promise<void>;
}

export async function connectInfrastructure(
  config: ServiceConfig<ServiceName>,
  opts: { upcasters?: UpcasterRegistry; logger?: Logger } = {},
): Promise<Infrastructure> {
  const service = config.service;
  const logger = opts.logger ?? createLogger(service, config.LOG_LEVEL);
  const retry = { logger, timeoutMs: config.CONNECT_TIMEOUT_SECONDS * 1000 };
  // both at once, so that each one that fails says so
  const [mongoResult, natsResult] = await Promise.allSettled([
    connectMongo(config.MONGO_URL!, service, retry),
    connectNatsWithRetry(config.NATS_URL, service, retry),
  ]);
  if (mongoResult.status === 'rejected' || natsResult.status === 'rejected') {
    if (mongoResult.status === 'fulfilled') await mongoResult.value.close();
    if (natsResult.status === 'fulfilled') await natsResult.value.close();
    throw mongoResult.status === 'rejected' ? mongoResult.reason : (natsResult as PromiseRejectedResult).reason;
  }
  const [mongo, nc] = [mongoResult.value, natsResult.value];
  const db = mongo.db(config.database);
  const metrics = createProcessMetrics(service);
  const naming = subjectNaming(config.NATS_SUBJECT_PREFIX);
  // every request this process sends (callService) goes to its namespace and is timed
  rpcClient(nc, { naming, metrics: metrics.rpc });
  await ensureStreams(nc, naming, { replicas: config.NATS_STREAM_REPLICAS });
  const js = nc.jetstream();
  const jsm = await jetStreamManager(nc);

  let relay: OutboxRelay | undefined;
  const store = createEventStore(db, {
    service: service as Exclude<ServiceName, 'gateway'>,
    upcasters: opts.upcasters,
    onAppended: (commit) => relay?.onAppended(commit),
  });
  await store.ensureIndexes();
  relay = createOutboxRelay({ commits: store.commits, js, naming, service, logger });
  await relay.start();
  outboxGauges(metrics.registry, relay.backlog);

  const infra: Infrastructure = {
    service,
    config,
    naming,
    logger,
    mongo,
    db,
    nc,
    js,
    jsm,
    store,
    relay,
    reservations: createReservations(db),
    metrics: metrics.registry,
    consumerMetrics: metrics.consumers,
    deadLetters: metrics.deadLetters,
    async close() {
      await relay!.stop();
      await nc.drain().catch(() => undefined);
      await mongo.close();
    },
  };
  return infra;
}

/** True when the database answers and NATS is connected. */
export async function checkInfrastructure(infra: Pick<Infrastructure, 'db' | 'nc'>): Promise<Record<string, 'up' | 'down'>> {
  const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000))]);
  const [mongo, nats] = await Promise.allSettled([within(infra.db.command({ ping: 1 })), within(infra.nc.flush())]);
  return {
    mongodb: mongo.status === 'fulfilled' ? 'up' : 'down',
    nats: nats.status === 'fulfilled' && !infra.nc.isClosed() ? 'up' : 'down',
  };
}
