import { Controller, Get, Header, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ClientProxy } from '@nestjs/microservices';
import type { Registry } from 'prom-client';
import { qrySubject, SERVICES, type HealthReply } from '@app/contracts';
import { Public } from '../auth/public.decorator';
import { NATS_CLIENT, ServicesClient } from '../common/services.client';

export const METRICS = Symbol('METRICS');

@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly services: ServicesClient,
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(METRICS) private readonly metrics: Registry,
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  live() {
    return { status: 'ok', service: 'gateway' };
  }

  /** Readiness: NATS answers, and every service answers with its database up. */
  @Get('health/ready')
  async ready() {
    const results = await Promise.all(
      SERVICES.map(async (service) => {
        try {
          const reply = await this.services.call<HealthReply>(qrySubject(service, 'health'), {}, undefined, 2000);
          return [service, reply.ok ? 'up' : 'down'] as const;
        } catch {
          return [service, 'down'] as const;
        }
      }),
    );
    const checks: Record<string, string> = { nats: 'up', ...Object.fromEntries(results) };
    const ok = results.every(([, s]) => s === 'up');
    if (!ok) {
      if (results.every(([, s]) => s === 'down')) checks.nats = (await this.natsAnswers()) ? 'up' : 'down';
      throw new ServiceUnavailableException({ code: 'SERVICE_UNAVAILABLE', message: `not ready: ${JSON.stringify(checks)}` });
    }
    return { status: 'ready', checks };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async prometheus(): Promise<string> {
    return this.metrics.metrics();
  }

  private async natsAnswers(): Promise<boolean> {
    try {
      await this.client.connect();
      return true;
    } catch {
      return false;
    }
  }
}
