import { DomainError, ErrorCode, type DomainEvent } from '@app/contracts';
import { OrgAccess, type OrgAccessSnapshot } from '@app/access-model';

const RELEVANT = new Set(['membership', 'authorization']);

/** The whole view at one stream position, as plain JSON (stored by `view-snapshot.ts`). */
export interface AccessViewSnapshot {
  /** the last stream sequence the view had applied */
  sequence: number;
  /** every organization that has seen an event */
  orgs: OrgAccessSnapshot[];
}

/**
 * The in-memory view of every organization, fed in stream order from the events stream (from sequence 1, or
 * from a snapshot's sequence + 1, on every replica). `position` is the last stream sequence applied; `catchUp` waits until the
 * view has applied everything that was in the stream when it was called (the consistency mechanism: a write
 * publishes its events before it replies, so whatever returned before a check started is in the view when the
 * check answers).
 */
export class AccessView {
  private readonly orgs = new Map<string, OrgAccess>();
  private position = 0;
  /** stream messages applied since this view was made or restored (the replayed tail at start-up, then live ones) */
  consumed = 0;
  private readonly waiters = new Set<{ ready: () => boolean; resolve: () => void }>();
  private inflight?: Promise<number>;
  private queued?: Promise<number>;

  /** `lastSequence` reads the stream's last sequence (JetStream stream info); injected for tests. */
  constructor(
    private readonly lastSequence: () => Promise<number> = async () => this.position,
    private readonly timeoutMs = 5000,
  ) {}

  org(organizationId: string): OrgAccess {
    let org = this.orgs.get(organizationId);
    if (!org) {
      org = new OrgAccess(organizationId);
      this.orgs.set(organizationId, org);
    }
    return org;
  }

  /** The organization's index if any event of it was seen. */
  find(organizationId: string): OrgAccess | undefined {
    const org = this.orgs.get(organizationId);
    return org?.exists ? org : undefined;
  }

  get sequence(): number {
    return this.position;
  }

  /** A copy of the whole view at its current position (synchronous, so it reflects exactly `sequence`). */
  snapshot(): AccessViewSnapshot {
    const orgs: OrgAccessSnapshot[] = [];
    for (const org of this.orgs.values()) if (org.exists) orgs.push(org.toSnapshot());
    return { sequence: this.position, orgs };
  }

  /** Makes this (new, empty) view the one the snapshot was taken from; the stream is then consumed from `sequence + 1`. */
  restore(snapshot: AccessViewSnapshot): void {
    if (this.position !== 0 || this.orgs.size) throw new Error('a snapshot is restored into an empty view only');
    for (const o of snapshot.orgs) this.orgs.set(o.id, OrgAccess.fromSnapshot(o));
    this.position = snapshot.sequence;
  }

  /** Applies one event at stream sequence `seq` (a sequence at or below the position is a redelivery: ignored). */
  ingest(event: DomainEvent | undefined, seq: number): void {
    if (seq <= this.position) return;
    if (event?.service === 'identity' && event.type === 'user.username-changed') this.renamed(event.data as { userId: string; username: string });
    const organizationId = event && RELEVANT.has(event.service) ? ((event.data as { organizationId?: string })?.organizationId ?? event.organizationId) : undefined;
    if (event && organizationId) this.org(organizationId).apply(event);
    this.position = seq;
    this.consumed++;
    this.settle();
  }

  /** Usernames shown in project member lists follow identity's renames (rare: a scan of the organizations). */
  private renamed(d: { userId: string; username: string }): void {
    for (const org of this.orgs.values()) {
      const user = org.users.get(d.userId);
      if (user) user.username = d.username;
    }
  }

  private settle(): void {
    for (const w of this.waiters) {
      if (!w.ready()) continue;
      this.waiters.delete(w);
      w.resolve();
    }
  }

  private until(ready: () => boolean, what: string, timeoutMs = this.timeoutMs): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = { ready, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `the authorization view did not catch up in time (${what})`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  waitForSequence(seq: number, timeoutMs = this.timeoutMs): Promise<void> {
    return this.until(() => this.position >= seq, `sequence ${seq}`, timeoutMs);
  }

  /** Until the view has applied version `version` of the stream `access-<organizationId>`. */
  waitForAccessVersion(organizationId: string, version: number): Promise<void> {
    return this.until(() => this.org(organizationId).accessVersion >= version, `access-${organizationId}@${version}`);
  }

  /**
   * Until everything in the stream when this was called has been applied. Concurrent callers share the stream
   * look-ups: at most one is in flight, and a caller that arrives while one is in flight waits for the next
   * one (which is sent after it arrived), so no caller is answered with a position read before it started.
   */
  async catchUp(timeoutMs = this.timeoutMs): Promise<void> {
    let last: number;
    try {
      last = await this.lastSequenceShared();
    } catch {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the events stream did not answer');
    }
    await this.waitForSequence(last, timeoutMs);
  }

  private lastSequenceShared(): Promise<number> {
    if (!this.inflight) return this.startLookUp();
    if (!this.queued) {
      const next = this.inflight
        .then(
          () => undefined,
          () => undefined,
        )
        .then(() => {
          this.queued = undefined;
          return this.startLookUp();
        });
      this.queued = next;
    }
    return this.queued;
  }

  private startLookUp(): Promise<number> {
    const p = this.lastSequence();
    this.inflight = p;
    const clear = () => {
      if (this.inflight === p) this.inflight = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
