import { Controller, Get, Global, Header, Inject, Module, ServiceUnavailableException, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { qrySubject, type HealthReply, type ServiceName } from '@app/contracts';
import { DomainErrorFilter, MessageMetaGuard, natsMicroserviceOptions } from '@app/messaging';
import type { UpcasterRegistry } from '@app/event-store';
import { PinoNestLogger } from './logger';
import { checkInfrastructure, connectInfrastructure, INFRA, type Infrastructure } from './infrastructure';
import type { ServiceConfig } from './config';

/** `GET /health`, `GET /health/ready`, `GET /metrics` and `qry.<service>.health` of one service. */
function healthControllerFor(service: ServiceName): Type<unknown> {
  @Controller()
  class HealthController {
    constructor(@Inject(INFRA) private readonly infra: Infrastructure) {}

    @Get('health')
    live() {
      return { status: 'ok', service };
    }

    @Get('health/ready')
    async ready() {
      const reply = await this.check();
      if (!reply.ok) throw new ServiceUnavailableException(reply);
      return reply;
    }

    @Get('metrics')
    @Header('Content-Type', 'text/plain; version=0.0.4')
    metrics() {
      return this.infra.metrics.metrics();
    }

    @MessagePattern(qrySubject(service, 'health'))
    async check(): Promise<HealthReply> {
      const checks = await checkInfrastructure(this.infra);
      return { service, ok: Object.values(checks).every((c) => c === 'up'), checks };
    }
  }
  return HealthController;
}

export interface RunningService {
  app: INestApplication;
  infra: Infrastructure;
  /** HTTP port actually listened on (0 when none) */
  port: number;
  close(): Promise<void>;
}

/**
 * Starts one service: connects MongoDB and NATS, ensures streams and indexes, starts the outbox relay,
 * answers its NATS subjects in the service's queue group, and serves health and metrics over HTTP when
 * HTTP_PORT is set.
 */
export async function startService(
  config: ServiceConfig<ServiceName>,
  appModule: (infra: Infrastructure) => DynamicModule | Type<unknown>,
  opts: { upcasters?: UpcasterRegistry } = {},
): Promise<RunningService> {
  const infra = await connectInfrastructure(config, opts);
  @Global()
  @Module({ providers: [{ provide: INFRA, useValue: infra }], exports: [INFRA] })
  class InfraModule {}

  @Module({ imports: [InfraModule, appModule(infra)], controllers: [healthControllerFor(config.service)] })
  class ServiceRootModule {}

  try {
    const app = await NestFactory.create(ServiceRootModule, { logger: new PinoNestLogger(infra.logger), abortOnError: false });
    app.useGlobalFilters(new DomainErrorFilter((err) => infra.logger.error({ err }, 'unexpected error in handler')));
    app.useGlobalGuards(new MessageMetaGuard());
    app.connectMicroservice(natsMicroserviceOptions(config.service, config.NATS_URL), { inheritAppConfig: true });
    await app.startAllMicroservices();
    let port = 0;
    if (config.HTTP_PORT > 0) {
      await app.listen(config.HTTP_PORT, '0.0.0.0');
      port = config.HTTP_PORT;
    } else {
      await app.init();
    }
    infra.logger.info({ database: config.database, httpPort: port }, `${config.service} ready`);
    return {
      app,
      infra,
      port,
      async close() {
        await app.close();
        await infra.close();
      },
    };
  } catch (err) {
    await infra.close();
    throw err;
  }
}
