/**
 * One gateway process of bench/http-server: `gateway.ts express|fastify` builds the gateway app on that
 * platform, listens on a free loopback port and sends the port to its parent (IPC). Configuration from the
 * environment, as the gateway's own main.ts reads it.
 */
import 'reflect-metadata';
import { loadConfig } from '@app/platform';
import { createGatewayApp } from '../../apps/gateway/src/gateway.app';
import { createFastifyGatewayApp } from './fastify-app';

async function main() {
  const platform = process.argv[2];
  const build = platform === 'express' ? createGatewayApp : platform === 'fastify' ? createFastifyGatewayApp : undefined;
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
