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

/** Query parameters (compared regardless of case) whose values never reach a log line. */
export const REDACTED_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'access_token',
  'token',
  'password',
  'currentpassword',
  'newpassword',
  'temporarypassword',
  'secret',
  'hash',
]);

const CENSOR = '[redacted]';

const isSecretParam = (name: string): boolean => {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    // a malformed escape: compare as it is
  }
  return REDACTED_QUERY_PARAMS.has(decoded.replace(/\[.*$/, '').toLowerCase());
};

/** The URL with the value of every secret query parameter (`?access_token=…`) replaced; the rest unchanged. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const name = part.split('=', 1)[0];
      return isSecretParam(name) ? `${name}=${CENSOR}` : part;
    });
  return `${url.slice(0, q + 1)}${params.join('&')}`;
}

/** A logged request's `url` and `query` (pino-http) lose their secret parameters; every other path is censored whole. */
function censor(value: unknown, path: Array<string | symbol>): unknown {
  const field = path.map(String).join('.');
  if (field === 'req.url' && typeof value === 'string') return redactUrl(value);
  if (field === 'req.query' && typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretParam(k) ? CENSOR : v]));
  return CENSOR;
}

export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    redact: { paths: [...REDACTED_PATHS, 'req.url', 'req.query'], censor },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Contexts of Nest's start-up chatter (modules initialised, every route and pattern mapped): debug, not info. */
export const NEST_STARTUP_CONTEXTS: ReadonlySet<string> = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'NestMicroservice',
]);

/** Nest's own log lines, through pino; its start-up chatter only at `LOG_LEVEL=debug`. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    if (context && NEST_STARTUP_CONTEXTS.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
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
