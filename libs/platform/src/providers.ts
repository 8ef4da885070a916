import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { JetStreamClient, JetStreamManager } from 'nats';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Naming } from '@app/contracts';
import type { ConsumerMetrics } from '@app/event-store';
import type { Infrastructure } from './infrastructure';

/*
 * One Nest injection token per dependency a service takes from the outside world. `startService` provides them
 * all from the connected infrastructure in one global module (`platformModule`); a controller or a provider's
 * `useFactory` asks for exactly the ones it uses. The types behind them: `Db` and `MongoClient` (mongodb),
 * `NatsConnection`, `JetStreamClient`, `JetStreamManager` (nats), `Naming` (@app/contracts), `Logger` (pino),
 * `ServiceConfig` (./config), `EventStore`, `OutboxRelay`, `Reservations`, `ConsumerMetrics` (@app/event-store),
 * `Registry` and `Counter<'projection'>` (prom-client).
 */
export const SERVICE_CONFIG = Symbol('ServiceConfig');
export const LOGGER = Symbol('Logger');
export const NAMING = Symbol('Naming');
export const MONGO_DB = Symbol('Db');
export const NATS_CONNECTION = Symbol('NatsConnection');
export const JETSTREAM = Symbol('JetStreamClient');
export const JETSTREAM_MANAGER = Symbol('JetStreamManager');
export const EVENT_STORE = Symbol('EventStore');
export const OUTBOX_RELAY = Symbol('OutboxRelay');
export const RESERVATIONS = Symbol('Reservations');
/** the process's prom-client registry (what /metrics serves) */
export const METRICS_REGISTRY = Symbol('MetricsRegistry');
/** consumers report their lag here (`metrics` option of consumeEvents / runProjection) */
export const CONSUMER_METRICS = Symbol('ConsumerMetrics');
/** `dead_letter_events_total{projection}` */
export const DEAD_LETTERS = Symbol('DeadLetters');

/** What a consumer of the events stream (a view, a projection) takes: one provider, as they all take the same. */
export interface StreamConsumerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  logger: Logger;
  consumerMetrics: ConsumerMetrics;
  deadLetters: Counter<'projection'>;
}
export const STREAM_CONSUMER_DEPS = Symbol('StreamConsumerDeps');

/** `@InjectConfig() config: ServiceConfig<'identity'>`: the service's validated configuration. */
export const InjectConfig = (): ParameterDecorator => Inject(SERVICE_CONFIG);

/** The small dependencies of one connected infrastructure as global providers (the composition root's module). */
export function platformModule(infra: Infrastructure): DynamicModule {
  const values: Array<[symbol, unknown]> = [
    [SERVICE_CONFIG, infra.config],
    [LOGGER, infra.logger],
    [NAMING, infra.naming],
    [MONGO_DB, infra.db],
    [NATS_CONNECTION, infra.nc],
    [JETSTREAM, infra.js],
    [JETSTREAM_MANAGER, infra.jsm],
    [EVENT_STORE, infra.store],
    [OUTBOX_RELAY, infra.relay],
    [RESERVATIONS, infra.reservations],
    [METRICS_REGISTRY, infra.metrics],
    [CONSUMER_METRICS, infra.consumerMetrics],
    [DEAD_LETTERS, infra.deadLetters],
    [STREAM_CONSUMER_DEPS, streamConsumerDeps(infra)],
  ];
  const providers: Provider[] = values.map(([provide, useValue]) => ({ provide, useValue }));
  @Global()
  @Module({})
  class PlatformModule {}
  return { module: PlatformModule, global: true, providers, exports: values.map(([token]) => token) };
}

export function streamConsumerDeps(infra: StreamConsumerDeps): StreamConsumerDeps {
  const { js, jsm, naming, logger, consumerMetrics, deadLetters } = infra;
  return { js, jsm, naming, logger, consumerMetrics, deadLetters };
}

/**
 * A provider's value that Nest stops on shutdown (`OnApplicationShutdown`: after the handlers stopped, before
 * `startService` closes the relay and the connections): for what a `useFactory` starts (views, consumers).
 */
export function stoppedOnShutdown<T extends { stop(): Promise<unknown> }>(value: T): T & OnApplicationShutdown {
  return Object.assign(value, { onApplicationShutdown: async () => void (await value.stop().catch(() => undefined)) });
}
