import { Controller, Inject, Module, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import type { Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { qrySubject, systemMeta, type HealthReply, type ServiceName } from '@app/contracts';
import { callService, DomainErrorFilter, MessageContractGuard, MessageMetaGuard, natsMicroserviceOptions } from '@app/messaging';
import type { UpcasterRegistry } from '@app/event-store';
import { createLogger, PinoNestLogger } from './logger';
import { checkInfrastructure, connectInfrastructure, type Infrastructure } from './infrastructure';
import { MONGO_DB, NATS_CONNECTION, platformModule } from './providers';
import { serveHealth, type HealthServer } from './health-server';
import type { ServiceConfig } from './config';

async function healthOf(service: ServiceName, infra: Pick<Infrastructure, 'db' | 'nc'>): Promise<HealthReply> {
  const checks = await checkInfrastructure(infra);
  return { service, ok: Object.values(checks).every((c) => c === 'up'), checks };
}

/** `qry.<service>.health`: what the gateway's `/health/services` asks each service. */
function healthControllerFor(service: ServiceName): Type<unknown> {
  @Controller()
  class HealthController {
    constructor(
      @Inject(MONGO_DB) private readonly db: Db,
      @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    ) {}

    @MessagePattern(qrySubject(service, 'health'))
    check(): Promise<HealthReply> {
      return healthOf(service, { db: this.db, nc: this.nc });
    }
  }
  return HealthController;
}

/** Until the service answers its own health query through the broker (a request right after start would else find no responder). */
async function answering(infra: Pick<Infrastructure, 'nc'>, service: ServiceName, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await callService(infra, qrySubject(service, 'health'), {}, systemMeta(`ready-check:${service}`), 1_000);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export interface RunningService {
  app: INestMicroservice;
  /** what the service's providers were made from (tests and tools read its database or metrics through it) */
  infra: Infrastructure;
  /** HTTP port of /health, /health/ready and /metrics (0 when none) */
  port: number;
  close(): Promise<void>;
}

/**
 * Starts one service: opens its health port first when HTTP_PORT is set (alive, not ready), connects MongoDB
 * and NATS (retrying, see connect.ts), ensures streams and indexes, starts the outbox relay, then answers its
 * NATS subjects in the service's queue group; ready from then on. No HTTP server of Nest's: a service's only
 * HTTP surface is its health port.
 */
export async function startService(
  config: ServiceConfig<ServiceName>,
  appModule: DynamicModule | Type<unknown>,
  opts: { upcasters?: UpcasterRegistry; logger?: Logger } = {},
): Promise<RunningService> {
  const logger = opts.logger ?? createLogger(config.service, config.LOG_LEVEL);
  const health: HealthServer | undefined = config.HTTP_PORT > 0 ? await serveHealth(config.service, config.HTTP_PORT) : undefined;
  let infra: Infrastructure | undefined;
  let app: INestMicroservice | undefined;
  try {
    infra = await connectInfrastructure(config, { ...opts, logger });
    const connected = infra;
    @Module({ imports: [platformModule(connected), appModule], controllers: [healthControllerFor(config.service)] })
    class ServiceRootModule {}

    app = await NestFactory.createMicroservice(ServiceRootModule, {
      ...natsMicroserviceOptions(config.service, config.NATS_URL, connected.naming, config.NATS_STREAM_REPLICAS),
      logger: new PinoNestLogger(logger),
      abortOnError: false,
    });
    app.useGlobalFilters(new DomainErrorFilter((err, subject) => logger.error({ err, subject }, 'unexpected error in handler')));
    // meta first (command id, actor), then the body against its subject's schema: handlers get checked, typed bodies
    app.useGlobalGuards(new MessageMetaGuard(), new MessageContractGuard());
    await app.listen();
    // listening means its subscriptions were sent, not that the broker has them: ready once it answers
    await answering(connected, config.service);
    health?.serve(
      () => healthOf(config.service, connected),
      () => connected.metrics.metrics(),
    );
    logger.info({ database: config.database, httpPort: health?.port ?? 0 }, `${config.service} ready`);
    const started = app;
    return {
      app,
      infra: connected,
      port: health?.port ?? 0,
      async close() {
        health?.stopping();
        // the handlers stop answering, then what the providers started stops (their OnApplicationShutdown:
        // views, consumers, timers), then the relay and the connections
        await started.close();
        await connected.close();
        await health?.close();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await infra?.close();
    await health?.close();
    throw err;
  }
}
