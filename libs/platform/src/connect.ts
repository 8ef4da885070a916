import { MongoClient } from 'mongodb';
import { connect, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { connectNats } from '@app/messaging';
import { redactUrl } from './logger';

/**
 * First connections of a process (docs/operations.md "Start-up and connections"): each one is logged with its
 * URL (credentials masked), and a failed attempt gives, within seconds, one warn line with the URL and the
 * reason; the process keeps trying with backoff (its health endpoint up and not ready meanwhile) until it
 * connects or `timeoutMs` has passed, then it stops with a ConnectError naming both.
 */

/** How long one attempt may take before it counts as failed (the client keeps trying behind it). */
export const CONNECT_ATTEMPT_MS = 3000;
/** Pauses between attempts; the last one repeats. */
export const CONNECT_BACKOFF_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 15_000];

export class ConnectError extends Error {}

export interface RetryOptions {
  logger: Logger;
  /** give up after this long (0: never) */
  timeoutMs: number;
  backoffMs?: readonly number[];
}

/** The URL(s) as they may be logged: `user:password@` becomes `user:***@` (a bare NATS token `***@`), secret query values `[redacted]`. */
export function maskUrl(url: string): string {
  const masked = url.replace(/([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/gi, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`}@`;
  });
  return redactUrl(masked);
}

/** One short reason: the driver's message, NATS codes (`CONNECTION_REFUSED`) in words. */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split('\n')[0];
  return /^[A-Z_]+$/.test(line) ? line.toLowerCase().replace(/_/g, ' ') : line;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or a rejection with `failure()` once `ms` have passed (`p` goes on). */
export function within<T>(p: Promise<T>, ms: number, failure: () => unknown = () => new Error(`no answer within ${ms / 1000} s`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(failure()), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Calls `attempt` until it resolves, logging and backing off as described above. */
export async function connectWithRetry<T>(what: string, url: string, attempt: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const shown = maskUrl(url);
  const backoff = opts.backoffMs ?? CONNECT_BACKOFF_MS;
  const began = Date.now();
  opts.logger.info({ url: shown }, `connecting to ${what} at ${shown}`);
  for (let n = 1; ; n++) {
    try {
      const result = await attempt();
      if (n > 1) opts.logger.info({ url: shown, attempts: n }, `connected to ${what} at ${shown}`);
      return result;
    } catch (err) {
      const reason = reasonOf(err);
      const pause = backoff[Math.min(n - 1, backoff.length - 1)];
      const elapsed = Date.now() - began;
      if (opts.timeoutMs > 0 && elapsed + pause > opts.timeoutMs)
        throw new ConnectError(`cannot connect to ${what} at ${shown} (gave up after ${Math.round(elapsed / 1000)} s): ${reason}`);
      opts.logger.warn({ url: shown, attempt: n, retryInMs: pause, reason }, `cannot connect to ${what} at ${shown}: ${reason}; retrying in ${pause / 1000} s`);
      await sleep(pause);
    }
  }
}

/**
 * A MongoClient, connected. One client throughout: an attempt that has not connected within
 * CONNECT_ATTEMPT_MS is reported with the driver's last heartbeat failure (ECONNREFUSED, ENOTFOUND, …) while
 * the client goes on trying; a malformed URL throws at once.
 */
export async function connectMongo(url: string, appName: string, opts: RetryOptions): Promise<MongoClient> {
  const mongo = new MongoClient(url, { serverSelectionTimeoutMS: 10_000, appName });
  let lastFailure: unknown;
  const onFailure = (e: { failure: unknown }) => (lastFailure = e.failure);
  mongo.on('serverHeartbeatFailed', onFailure);
  try {
    await connectWithRetry('MongoDB', url, () => within(mongo.connect(), CONNECT_ATTEMPT_MS, () => lastFailure ?? new Error('no answer')), opts);
    return mongo;
  } catch (err) {
    await mongo.close().catch(() => undefined);
    throw err;
  } finally {
    mongo.off('serverHeartbeatFailed', onFailure);
  }
}

/** Whether NATS at `url` accepts a connection (one short-lived connection; fails within CONNECT_ATTEMPT_MS). */
async function probeNats(url: string, name: string): Promise<void> {
  const probe = await connect({ servers: url.split(','), name, timeout: CONNECT_ATTEMPT_MS, reconnect: false });
  await probe.close();
}

/**
 * Waits until NATS accepts connections (`@app/messaging`'s connectNats, like the other clients of the
 * process, would otherwise wait silently and for ever on a first connection), then connects with it.
 */
export async function connectNatsWithRetry(url: string, name: string, opts: RetryOptions): Promise<NatsConnection> {
  await waitForNats(url, name, opts);
  return connectNats(url, name);
}

export const waitForNats = (url: string, name: string, opts: RetryOptions): Promise<void> => connectWithRetry('NATS', url, () => probeNats(url, name), opts);
