import type { DynamicModule, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ServiceName } from '@app/contracts';
import { ConfigError, loadConfig } from './config';
import { ConnectError, reasonOf } from './connect';
import { createLogger } from './logger';
import { startService, type RunningService } from './service-runtime';

/**
 * Ends a process whose start failed, with one line: an invalid configuration as its message (stderr), a
 * connection given up on as its reason, anything else as one JSON line that carries the stack in `err`.
 */
export function exitOnStartFailure(err: unknown, logger?: Logger): never {
  if (err instanceof ConfigError || !logger) process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  else if (err instanceof ConnectError) logger.fatal(err.message);
  else logger.fatal({ err }, `start-up failed: ${reasonOf(err)}`);
  process.exit(1);
}

/** Process entry of a service: validated config, start, clean stop on SIGINT/SIGTERM (also while connecting). */
export function runServiceMain(service: Exclude<ServiceName, 'gateway'>, appModule: DynamicModule | Type<unknown>): void {
  let running: RunningService | undefined;
  let logger: Logger | undefined;
  const stop = async (signal: string) => {
    logger?.info({ signal }, 'stopping');
    await running?.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  (async () => {
    const config = loadConfig(service);
    logger = createLogger(service, config.LOG_LEVEL);
    running = await startService(config, appModule, { logger });
  })().catch((err: unknown) => exitOnStartFailure(err, logger));
}
