import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { entriesCollection } from '../projections/audit.projection';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes entries older than `retentionDays` days before `now` (by event time). 0 keeps everything
 * (the default). Returns how many were deleted.
 */
export async function applyRetention(db: Db, retentionDays: number, now = new Date()): Promise<number> {
  if (!retentionDays || retentionDays <= 0) return 0;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
  const { deletedCount } = await entriesCollection(db).deleteMany({ sortKey: { $lt: cutoff } });
  return deletedCount;
}

/** Runs applyRetention at start and then every `intervalMs` (an hour by default) while the service runs. */
export function scheduleRetention(deps: { db: Db; logger: Logger }, retentionDays: number, intervalMs = 60 * 60 * 1000): () => Promise<void> {
  if (!retentionDays) return async () => undefined;
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = applyRetention(deps.db, retentionDays)
      .then((deleted) => deleted && deps.logger.info({ deleted, retentionDays }, 'audit retention: old entries deleted'))
      .catch((err: Error) => deps.logger.warn({ err: err.message }, 'audit retention failed; will retry at the next run'));
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
