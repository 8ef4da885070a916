import { BadRequestException, Inject, Module, type DynamicModule, type OnApplicationShutdown, type ValidationError } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import type { Logger } from 'pino';
import type { NatsConnection } from 'nats';
import { Gauge } from 'prom-client';
import { ErrorCode, kvBucketName, subjectNaming } from '@app/contracts';
import { connectNats, ensureStreams, retryTransient, rpcClient } from '@app/messaging';
import { createProcessMetrics, type ProcessMetrics, type ServiceConfig } from '@app/platform';
import { BearerAuthGuard } from './auth/auth.guard';
import { VERIFIED_TOKENS, VerifiedTokens } from './auth/verified-tokens';
import { ProblemFilter } from './common/problem.filter';
import { IDEMPOTENCY_TTL_MS } from './common/idempotency';
import { IDEMPOTENCY_KV, IdempotencyInterceptor } from './common/idempotency.interceptor';
import { idempotentWrites } from './common/idempotent-writes';
import { GATEWAY_CONFIG, GATEWAY_NATS, RPC_CLIENT, ServicesClient } from './common/services.client';
import { HealthController } from './health/health.controller';
import { MeController } from './me/me.controller';
import { AuthController } from './auth/auth.controller';
import { OrganizationsController } from './organizations/organizations.controller';
import { GroupsController } from './groups/groups.controller';
import { ServiceAccountsController } from './service-accounts/service-accounts.controller';
import { ProjectsController } from './projects/projects.controller';
import { PermissionGuard } from './auth/permission.guard';
import { AUTHORIZATION_CONTROLLERS } from './access/authorization.controllers';
import { AuditLogsController } from './audit-logs/audit-logs.controller';
import { keepValidationMetadata } from './common/validation-metadata';
import { PlainlyValidPipe } from './common/plainly-valid';

/**
 * The `errors` of a refused body or query: one `{ field, message }` per broken rule. A required field that is
 * missing gets one message saying so, not those of every rule its absent value breaks ("must be a UUID").
 */
export function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const missing = e.value === undefined && !e.constraints?.whitelistValidation;
    const own =
      missing && e.constraints ? [{ field, message: `${e.property} is required` }] : Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

keepValidationMetadata();

/** Strict bodies: unknown fields, wrong types and oversized strings are 400 VALIDATION_FAILED. */
export const strictValidationPipe = new PlainlyValidPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message: 'request validation failed', errors: flatten(errors) }),
});

/** Every controller of the gateway; the write routes run the idempotency interceptor, the others none. */
export const GATEWAY_CONTROLLERS = idempotentWrites([
  HealthController,
  AuthController,
  MeController,
  OrganizationsController,
  GroupsController,
  ServiceAccountsController,
  ProjectsController,
  ...AUTHORIZATION_CONTROLLERS,
  AuditLogsController,
]);

@Module({})
export class GatewayModule implements OnApplicationShutdown {
  constructor(
    @Inject(GATEWAY_NATS) private readonly nc: NatsConnection,
    @Inject(VERIFIED_TOKENS) private readonly verified: VerifiedTokens,
  ) {}

  async onApplicationShutdown() {
    await this.verified.stop().catch(() => undefined);
    await this.nc.drain().catch(() => undefined);
  }

  static register(config: ServiceConfig<'gateway'>, logger: Logger, metrics: ProcessMetrics = createProcessMetrics('gateway')): DynamicModule {
    // the installation's namespace on the NATS server: requests, streams and the idempotency bucket
    const naming = subjectNaming(config.NATS_SUBJECT_PREFIX);
    return {
      module: GatewayModule,
      controllers: GATEWAY_CONTROLLERS,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: GATEWAY_NATS, useFactory: () => connectNats(config.NATS_URL, 'gateway') },
        {
          provide: IDEMPOTENCY_KV,
          inject: [GATEWAY_NATS],
          // allow_direct false: every get is answered by the stream's leader. A direct get may be answered by a
          // follower, which after a restart can hold an old revision (nats-server #4162, fixed in 2.9.17): the
          // compare-and-set that takes over a dead holder's key then fails on every try (409 for as long)
          useFactory: (nc: NatsConnection) =>
            retryTransient(() =>
              nc.jetstream().views.kv(kvBucketName(naming, 'IDEMPOTENCY'), {
                ttl: IDEMPOTENCY_TTL_MS,
                history: 1,
                replicas: config.NATS_STREAM_REPLICAS,
                allow_direct: false,
              }),
            ),
        },
        {
          provide: VERIFIED_TOKENS,
          inject: [GATEWAY_NATS],
          useFactory: async (nc: NatsConnection) => {
            // the gateway may start before any service has created the streams (npm start starts them all at once)
            await ensureStreams(nc, naming, { replicas: config.NATS_STREAM_REPLICAS });
            const verified = new VerifiedTokens(nc, naming, config.SERVICE_REQUEST_TIMEOUT_MS, undefined, logger);
            await verified.start();
            new Gauge({
              name: 'gateway_read_lease_held',
              help: "1 while the gateway holds its read lease (GET /me and the permission check skip the look-up of the events stream's end), else 0",
              registers: [metrics.registry],
              collect() {
                this.set(verified.leaseHeld() ? 1 : 0);
              },
            });
            return verified;
          },
        },
        { provide: RPC_CLIENT, inject: [GATEWAY_NATS], useFactory: (nc: NatsConnection) => rpcClient(nc, { naming, metrics: metrics.rpc }) },
        ServicesClient,
        { provide: APP_GUARD, useClass: BearerAuthGuard },
        { provide: APP_GUARD, useClass: PermissionGuard },
        { provide: APP_PIPE, useValue: strictValidationPipe },
        // on the write routes only (idempotentWrites): a read runs no interceptor
        IdempotencyInterceptor,
        { provide: APP_FILTER, useValue: new ProblemFilter(logger) },
      ],
    };
  }
}
