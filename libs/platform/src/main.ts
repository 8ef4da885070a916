import type { DynamicModule, Type } from '@nestjs/common';
import type { ServiceName } from '@app/contracts';
import { ConfigError, loadConfig } from './config';
import { startService, type RunningService } from './service-runtime';
import type { Infrastructure } from './infrastructure';

/** Process entry of a service: validated config, start, clean stop on SIGINT/SIGTERM. */
export function runServiceMain(
  service: Exclude<ServiceName, 'gateway'>,
  appModule: (infra: Infrastructure) => DynamicModule | Type<unknown>,
): void {
  let running: RunningService | undefined;
  const stop = async (signal: string) => {
    running?.infra.logger.info({ signal }, 'stopping');
    await running?.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  (async () => {
    const config = loadConfig(service);
    running = await startService(config, appModule);
  })().catch((err: Error) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err.stack ?? err.message)}\n`);
    process.exit(1);
  });
}
