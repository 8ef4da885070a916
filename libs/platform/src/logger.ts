import pino, { type Logger } from 'pino';
import type { LoggerService } from '@nestjs/common';

/** Field names whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  'currentPassword',
  'newPassword',
  'temporaryPassword',
  'token',
  'secret',
  'hash',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.temporaryPassword',
  '*.token',
  '*.secret',
  '*.hash',
  'req.headers.authorization',
  'req.headers.cookie',
  // it derives the key that encrypts a stored response (docs/idempotency.md)
  'req.headers["idempotency-key"]',
  'res.headers["idempotency-key"]',
];

export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** Nest's own log lines, through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
