import 'reflect-metadata';
import type { Logger } from 'pino';
import { createLogger, exitOnStartFailure, loadConfig, serveHealth, waitForNats } from '@app/platform';
import { createGatewayApp } from './gateway.app';

/**
 * The gateway's process. Its port answers `GET /health` from the start (and readiness 503) while NATS is
 * waited for, so a wrong NATS_URL shows as a log line and a live, not-ready process; then the API takes the port.
 */
let logger: Logger | undefined;
async function main() {
  const config = loadConfig('gateway');
  logger = createLogger('gateway', config.LOG_LEVEL);
  const early = config.GATEWAY_PORT > 0 ? await serveHealth('gateway', config.GATEWAY_PORT, { portName: 'GATEWAY_PORT', api: true }) : undefined;
  await waitForNats(config.NATS_URL, 'gateway', { logger, timeoutMs: config.CONNECT_TIMEOUT_SECONDS * 1000 });
  const app = await createGatewayApp(config, logger);
  await early?.close();
  await app.listen(config.GATEWAY_PORT, '0.0.0.0');
  logger.info({ port: config.GATEWAY_PORT }, `gateway listening on port ${config.GATEWAY_PORT}`);
}

main().catch((err: unknown) => exitOnStartFailure(err, logger));
