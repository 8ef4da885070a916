import { randomUUID } from 'node:crypto';
import type { DomainEvent, RebuildReply, ReplayDeadLettersReply } from '@app/contracts';
import type { Progress } from '@app/event-store';
import type { Db } from 'mongodb';
import type { Registry } from 'prom-client';
import type { StreamConsumerDeps } from '@app/platform';
import { AUDIT_PROJECTION, auditMetrics, type AuditMetrics } from './audit.projection';
import { Lease } from './lease';
import { readCheckpoint, replayAuditDeadLetters, startLiveProjection, type LiveProjection } from './live-projection';
import { rebuildProjection } from './rebuild';

export type AuditHostDeps = StreamConsumerDeps & { db: Db; metrics: Registry };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Owns the projection of this process: starts it, stops it for a rebuild, and is the projection's `Progress`
 * for read-your-writes waits: what the live projection here applied, or the checkpoint (whichever replica holds
 * the lease, and during a rebuild).
 */
export class AuditProjectionHost implements Progress {
  private live?: LiveProjection;
  private rebuilding?: Promise<RebuildReply>;
  private readonly metrics: AuditMetrics;
  readonly lease: Lease;

  constructor(
    private readonly deps: AuditHostDeps,
    /** `check`: the contract check before mapping (tests only; default the event catalogue's schemas) */
    private readonly options: { renewEveryMs?: number; leaseTtlMs?: number; check?: (event: DomainEvent) => void } = {},
  ) {
    this.metrics = auditMetrics(deps.metrics);
    this.lease = new Lease(deps.db, AUDIT_PROJECTION, randomUUID(), options.leaseTtlMs ?? 20_000);
  }

  start(): void {
    this.live ??= startLiveProjection({
      db: this.deps.db,
      js: this.deps.js,
      jsm: this.deps.jsm,
      naming: this.deps.naming,
      lease: this.lease,
      renewEveryMs: this.options.renewEveryMs,
      logger: this.deps.logger,
      onDeadLetter: () => this.deps.deadLetters.inc({ projection: AUDIT_PROJECTION }),
      metrics: this.deps.consumerMetrics,
      onEntries: (n) => this.metrics.entriesWritten.inc(n),
      check: this.options.check,
    });
  }

  async stop(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    await live?.stop();
  }

  position(): number {
    return this.live?.position() ?? 0;
  }

  onAdvance(listener: () => void): () => void {
    return this.live?.onAdvance(listener) ?? (() => undefined);
  }

  shared(): Promise<number> {
    return readCheckpoint(this.deps.db);
  }

  /**
   * Re-feeds the dead letters through the projection after a fix, with the live projection stopped and its lease
   * held (as for a rebuild), then resumes it.
   */
  async replayDeadLetters(): Promise<ReplayDeadLettersReply> {
    if (this.rebuilding) await this.rebuilding.catch(() => undefined);
    await this.stop();
    try {
      if (await this.lease.steal()) await sleep((this.options.renewEveryMs ?? 5000) + 500);
      const renew = setInterval(() => void this.lease.acquire().catch(() => undefined), 2000);
      try {
        const r = await replayAuditDeadLetters({
          db: this.deps.db,
          jsm: this.deps.jsm,
          naming: this.deps.naming,
          logger: this.deps.logger,
          check: this.options.check,
        });
        return { projection: AUDIT_PROJECTION, ...r };
      } finally {
        clearInterval(renew);
      }
    } finally {
      this.start();
    }
  }

  /**
   * Drops and rebuilds the projection from the events stream, holding the lease so that no replica writes
   * meanwhile; one rebuild at a time per process. The live projection resumes after the rebuilt range.
   */
  rebuild(): Promise<RebuildReply> {
    this.rebuilding ??= (async () => {
      try {
        await this.stop();
        // another replica leading stops at its next renewal: give it that long before dropping anything
        if (await this.lease.steal()) await sleep((this.options.renewEveryMs ?? 5000) + 500);
        const renew = setInterval(() => void this.lease.acquire().catch(() => undefined), 2000);
        try {
          return await rebuildProjection({
            db: this.deps.db,
            js: this.deps.js,
            jsm: this.deps.jsm,
            naming: this.deps.naming,
            logger: this.deps.logger,
            onDeadLetter: () => this.deps.deadLetters.inc({ projection: AUDIT_PROJECTION }),
          });
        } finally {
          clearInterval(renew);
        }
      } finally {
        this.rebuilding = undefined;
        this.start();
      }
    })();
    return this.rebuilding;
  }
}
