import { eventsStreamName, type RebuildReply } from '@app/contracts';
import { CHECKPOINTS, type RunningProjection } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { AUDIT_PROJECTION, auditMetrics, startAuditProjection } from './audit.projection';
import { rebuildProjection } from './rebuild';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Owns the live projection of this process: starts it, stops it for a rebuild, and tells queries when the
 * projection has caught up with the events stream (read-your-writes).
 */
export class AuditProjectionHost {
  private running?: RunningProjection;
  private rebuilding?: Promise<RebuildReply>;
  private readonly metrics;

  constructor(private readonly infra: Infrastructure) {
    this.metrics = auditMetrics(infra.metrics);
  }

  async start(): Promise<void> {
    this.running ??= await startAuditProjection(this.infra, this.metrics);
  }

  async stop(): Promise<void> {
    const r = this.running;
    this.running = undefined;
    await r?.stop();
  }

  /** Last sequence of the events stream right now. */
  async streamLastSequence(): Promise<number> {
    return (await this.infra.jsm.streams.info(eventsStreamName())).state.last_seq;
  }

  /**
   * Resolves once the projection has handled every event up to `sequence`, whichever replica handled it
   * (the checkpoint in the database), or after `timeoutMs` (returns false: the answer may be behind).
   */
  async caughtUp(sequence: number, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((this.running?.position() ?? 0) >= sequence) return true;
      const checkpoint = await this.infra.db.collection<{ _id: string; sequence: number }>(CHECKPOINTS).findOne({ _id: AUDIT_PROJECTION });
      if ((checkpoint?.sequence ?? 0) >= sequence) return true;
      if (Date.now() > deadline) return false;
      await sleep(this.rebuilding ? 200 : 10);
    }
  }

  /** Drops and rebuilds the projection from the events stream; one rebuild at a time per process. */
  rebuild(): Promise<RebuildReply> {
    this.rebuilding ??= (async () => {
      try {
        await this.stop();
        return await rebuildProjection({
          db: this.infra.db,
          js: this.infra.js,
          jsm: this.infra.jsm,
          logger: this.infra.logger,
          onDeadLetter: () => this.infra.deadLetters.inc({ projection: AUDIT_PROJECTION }),
        });
      } finally {
        this.rebuilding = undefined;
        await this.start();
      }
    })();
    return this.rebuilding;
  }
}
