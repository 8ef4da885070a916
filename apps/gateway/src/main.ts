import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/platform';
import { createGatewayApp } from './gateway.app';

async function main() {
  const config = loadConfig('gateway');
  const app = await createGatewayApp(config);
  await app.listen(config.GATEWAY_PORT, '0.0.0.0');
  process.stdout.write(`${JSON.stringify({ level: 30, service: 'gateway', msg: `gateway listening on port ${config.GATEWAY_PORT}` })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : (err.stack ?? err.message)}\n`);
  process.exit(1);
});
