import { Controller, Get, Inject, Res, ServiceUnavailableException, type BeforeApplicationShutdown } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from 'nats';
import { qrySubject, SERVICES, type HealthReply } from '@app/contracts';
import { within, type ServiceConfig } from '@app/platform';
import { Public } from '../auth/public.decorator';
import { GATEWAY_CONFIG, GATEWAY_NATS, ServicesClient } from '../common/services.client';

const CHECK_MS = 2000;

/**
 * Health of the gateway (docs/operations.md "Health"). `/health/ready` is the system's readiness as the API
 * contract defines it (NATS, every service and its database); the Kubernetes readiness probe asks
 * `/health/serving`, the gateway's own (its NATS connection, the only thing it needs to serve), so a backend
 * that is down makes the routes that need it answer 503 SERVICE_UNAVAILABLE without taking every gateway out
 * of rotation. On SIGTERM both answer 503 at once while requests are still served for SHUTDOWN_GRACE_SECONDS, so
 * the load balancer stops sending before the server closes (with Kubernetes' preStop delay on top).
 */
@ApiExcludeController()
@Public()
@Controller()
export class HealthController implements BeforeApplicationShutdown {
  private draining = false;

  constructor(
    private readonly services: ServicesClient,
    @Inject(GATEWAY_NATS) private readonly nc: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: ServiceConfig<'gateway'>,
  ) {}

  /** Nest calls this before it closes the HTTP server: with a signal (a real stop), readiness first, then the grace period. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.draining = true;
    if (signal) await new Promise((resolve) => setTimeout(resolve, this.config.SHUTDOWN_GRACE_SECONDS * 1000));
  }

  /** Liveness: the process answers. */
  @Get('health')
  live() {
    return { status: 'ok', service: 'gateway' };
  }

  /** The gateway can serve: its NATS connection answers a round trip (the readiness probe). */
  @Get('health/serving')
  async serving() {
    if (this.draining) throw new ServiceUnavailableException({ code: 'SERVICE_UNAVAILABLE', message: 'shutting down' });
    if (!(await this.natsUp())) throw new ServiceUnavailableException({ code: 'SERVICE_UNAVAILABLE', message: 'not ready: the NATS connection is down' });
    return { status: 'ready', checks: { nats: 'up' } };
  }

  /** Readiness of the system: NATS and every service (each answers `qry.<service>.health` with its database up); 200 when all are up, else 503. */
  @Get('health/ready')
  async ready(@Res({ passthrough: true }) res: FastifyReply) {
    const nats = (await this.natsUp()) ? 'up' : 'down';
    const results = await Promise.all(
      SERVICES.map(async (service) => {
        if (nats === 'down') return [service, 'down'] as const;
        try {
          const reply = await this.services.call<HealthReply>(qrySubject(service, 'health'), {}, undefined, CHECK_MS);
          return [service, reply.ok ? 'up' : 'down'] as const;
        } catch {
          return [service, 'down'] as const;
        }
      }),
    );
    const checks: Record<string, 'up' | 'down'> = { nats, ...Object.fromEntries(results) };
    const ok = !this.draining && Object.values(checks).every((s) => s === 'up');
    res.status(ok ? 200 : 503);
    return { status: ok ? 'up' : 'degraded', checks };
  }

  /** The connection every request goes through answers a round trip (PING/PONG) within CHECK_MS. */
  private async natsUp(): Promise<boolean> {
    if (this.nc.isClosed()) return false;
    try {
      await within(this.nc.flush(), CHECK_MS);
      return true;
    } catch {
      return false;
    }
  }
}
