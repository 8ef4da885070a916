import { METHOD_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import pino from 'pino';
import { GATEWAY_CONTROLLERS, GatewayModule } from '../gateway.module';
import { PermissionsController } from '../permissions/permissions.controller';
import { handlersOf, idempotentWrites, interceptorsOf, isWriteRoute } from './idempotent-writes';
import { IdempotencyInterceptor } from './idempotency.interceptor';

const routes = GATEWAY_CONTROLLERS.flatMap((c) => handlersOf(c).map(({ key, descriptor }) => ({ name: `${c.name}.${key}`, handler: descriptor.value })));
const method = (h: (typeof routes)[number]['handler']) => RequestMethod[Reflect.getMetadata(METHOD_METADATA, h) as RequestMethod];

describe('idempotentWrites: the idempotency interceptor on every write route, no interceptor on any other', () => {
  it('finds the routes', () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((r) => method(r.handler) === 'GET').length).toBeGreaterThan(15);
  });

  it('every POST, PUT, PATCH and DELETE runs exactly the idempotency interceptor', () => {
    const writes = routes.filter((r) => isWriteRoute(r.handler));
    expect(writes.length).toBeGreaterThan(25);
    expect(writes.filter((r) => !['POST', 'PUT', 'PATCH', 'DELETE'].includes(method(r.handler)))).toEqual([]);
    expect(writes.filter((r) => interceptorsOf(r.handler).length !== 1 || interceptorsOf(r.handler)[0] !== IdempotencyInterceptor).map((r) => r.name)).toEqual(
      [],
    );
  });

  it('a read runs none, and neither does POST …/permissions/check (a question, not a write)', () => {
    // none for a whole controller either (it would run on its reads)
    expect(GATEWAY_CONTROLLERS.filter((c) => interceptorsOf(c as unknown as (typeof routes)[number]['handler']).length > 0).map((c) => c.name)).toEqual([]);
    const reads = routes.filter((r) => !isWriteRoute(r.handler));
    expect(reads.filter((r) => interceptorsOf(r.handler).length > 0).map((r) => r.name)).toEqual([]);
    const check = PermissionsController.prototype.check as unknown as (typeof routes)[number]['handler'];
    expect([method(check), isWriteRoute(check), interceptorsOf(check)]).toEqual(['POST', false, []]);
  });

  it('the module registers no interceptor for every route (APP_INTERCEPTOR)', () => {
    const config = { NATS_URL: 'nats://127.0.0.1:1', NATS_SUBJECT_PREFIX: '' } as unknown as Parameters<typeof GatewayModule.register>[0];
    const providers = GatewayModule.register(config, pino({ enabled: false })).providers ?? [];
    expect(providers.filter((p) => typeof p === 'object' && 'provide' in p && p.provide === APP_INTERCEPTOR)).toEqual([]);
  });

  it('marking the controllers again (the module built twice) adds nothing', () => {
    idempotentWrites(GATEWAY_CONTROLLERS);
    expect(routes.filter((r) => interceptorsOf(r.handler).length > 1).map((r) => r.name)).toEqual([]);
  });
});
