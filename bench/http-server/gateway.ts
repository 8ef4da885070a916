/**
 * One gateway process of bench/http-server: `gateway.ts express|fastify` builds the gateway app on that
 * platform (express: express-app.ts, or EXPRESS_GATEWAY_APP, the gateway.app.ts of another build, e.g. an
 * older commit unpacked; fastify: this tree's gateway.app.ts, or GATEWAY_APP, another build's), listens on a free loopback port and sends the port to its parent (IPC), and its
 * CPU time when asked. Configuration from the environment, as the gateway's own main.ts reads it.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { loadConfig, type ServiceConfig } from '@app/platform';
import { createGatewayApp } from '../../apps/gateway/src/gateway.app';
import { createExpressGatewayApp } from './express-app';

type Build = (config: ServiceConfig<'gateway'>) => Promise<INestApplication>;

async function main() {
  const platform = process.argv[2];
  const other = process.env.EXPRESS_GATEWAY_APP;
  const express: Build = other ? ((await import(other)) as { createGatewayApp: Build }).createGatewayApp : createExpressGatewayApp;
  const fastify: Build = process.env.GATEWAY_APP ? ((await import(process.env.GATEWAY_APP)) as { createGatewayApp: Build }).createGatewayApp : createGatewayApp;
  const build = platform === 'express' ? express : platform === 'fastify' ? fastify : undefined;
  if (!build) throw new Error(`usage: gateway.ts express|fastify (got ${platform})`);
  const app = await build(loadConfig('gateway'));
  await app.listen(0, '127.0.0.1');
  process.send!({ port: (app.getHttpServer().address() as { port: number }).port });
  process.on('message', (m) => m === 'cpu' && process.send!({ cpu: process.cpuUsage() }));
  process.on('disconnect', () => void app.close().finally(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
