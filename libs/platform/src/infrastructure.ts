import type { Db, MongoClient } from 'mongodb';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceName } from '@app/contracts';
import {
  createEventStore,
  createOutboxRelay,
  createReservations,
  type EventStore,
  type OutboxRelay,
  type Reservations,
  type UpcasterRegistry,
} from '@app/event-store';
import { ensureStreams } from '@app/messaging';
import { createLogger } from './logger';
import { connectMongo, connectNatsWithRetry } from './connect';
import type { ServiceConfig } from './config';

/** Everything a service needs from the outside world, connected and ready. */
export interface Infrastructure {
  service: ServiceName;
  config: ServiceConfig<ServiceName>;
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
  deadLetters: Counter;
  /** things to stop before the connections close (projections, timers) */
  onClose: Array<() => Promise<void>>;
  close(): Promise<void>;
}

export const INFRA = Symbol('INFRA');

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
  await ensureStreams(nc);
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();

  let relay: OutboxRelay | undefined;
  const store = createEventStore(db, {
    service: service as Exclude<ServiceName, 'gateway'>,
    upcasters: opts.upcasters,
    onAppended: (commit) => relay?.onAppended(commit),
  });
  await store.ensureIndexes();
  relay = createOutboxRelay({ commits: store.commits, js, service, logger });
  relay.start();

  const metrics = new Registry();
  metrics.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metrics });
  const deadLetters = new Counter({
    name: 'dead_letter_events_total',
    help: 'events sent to the dead-letter subject after repeated failures',
    labelNames: ['projection'],
    registers: [metrics],
  });

  const infra: Infrastructure = {
    service,
    config,
    logger,
    mongo,
    db,
    nc,
    js,
    jsm,
    store,
    relay,
    reservations: createReservations(db),
    metrics,
    deadLetters,
    onClose: [],
    async close() {
      for (const stop of infra.onClose.reverse()) await stop().catch(() => undefined);
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
