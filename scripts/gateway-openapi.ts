/**
 * The gateway's OpenAPI document, as GET /docs-json serves it, built without any infrastructure: Nest's
 * preview mode instantiates no provider, so no NATS connection is made (scripts/console-client.ts, docs/console.md).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createLogger, loadConfig } from '../libs/platform/src';
import { GatewayModule } from '../apps/gateway/src/gateway.module';
import { configureGateway, openApiDocument } from '../apps/gateway/src/gateway.app';

export async function gatewayOpenApi() {
  const config = loadConfig('gateway', { NATS_URL: 'nats://127.0.0.1:4222', GATEWAY_PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent' });
  const app = await NestFactory.create(GatewayModule.register(config, createLogger('gateway', 'silent')), new FastifyAdapter(), {
    preview: true,
    logger: false,
  });
  return openApiDocument(configureGateway(app));
}
