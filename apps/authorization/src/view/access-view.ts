import { DomainError, ErrorCode, formatConsistencyToken, organizationIdOf, type CatalogueEvent, type StreamPosition } from '@app/contracts';
import { appliedVersion, OrgAccess, organizationOfStream, type OrgAccessSnapshot } from '@app/access-model';
import { Position, waitUntil, waitUntilApplied } from '@app/event-store';

const RELEVANT = new Set(['membership', 'authorization']);

function notLate(reached: boolean, what: string): void {
  if (!reached) throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `the authorization view did not catch up in time (${what})`);
}

/** The whole view at one stream position, as plain JSON (stored by `view-snapshot.ts`). */
export interface AccessViewSnapshot {
  /** the last stream sequence the view had applied */
  sequence: number;
  /** every organization that has seen an event */
  orgs: OrgAccessSnapshot[];
}

/**
 * The in-memory view of every organization, fed in stream order from the events stream (from sequence 1, or
 * from a snapshot's sequence + 1, on every replica). `applied` is the last stream sequence applied (what the
 * consumer advances and every wait looks at); `catchUp` waits until the view has applied everything that was
 * in the stream when it was called (the consistency mechanism: a write publishes its events before it replies,
 * so whatever returned before a check started is in the view when the check answers).
 */
export class AccessView {
  private readonly orgs = new Map<string, OrgAccess>();
  readonly applied = new Position();
  /** stream messages applied since this view was made or restored (the replayed tail at start-up, then live ones) */
  consumed = 0;

  /** `lastSequence` reads the stream's last sequence now (`streamLastSequence`); injected for tests. */
  constructor(
    private readonly lastSequence: () => Promise<number> = async () => this.sequence,
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
    return this.applied.position();
  }

  /** A copy of the whole view at its current position (synchronous, so it reflects exactly `sequence`). */
  snapshot(): AccessViewSnapshot {
    const orgs: OrgAccessSnapshot[] = [];
    for (const org of this.orgs.values()) if (org.exists) orgs.push(org.toSnapshot());
    return { sequence: this.sequence, orgs };
  }

  /** Makes this (new, empty) view the one the snapshot was taken from; the stream is then consumed from `sequence + 1`. */
  restore(snapshot: AccessViewSnapshot): void {
    if (this.sequence !== 0 || this.orgs.size) throw new Error('a snapshot is restored into an empty view only');
    for (const o of snapshot.orgs) this.orgs.set(o.id, OrgAccess.fromSnapshot(o));
    this.applied.advance(snapshot.sequence);
  }

  /** Applies one event at stream sequence `seq` (a sequence at or below the position is a redelivery: ignored). */
  ingest(event: CatalogueEvent | undefined, seq: number): void {
    if (seq <= this.sequence) return;
    if (event?.service === 'identity' && event.type === 'user.username-changed') this.renamed(event.data);
    const organizationId = event && RELEVANT.has(event.service) ? organizationIdOf(event) : undefined;
    if (event && organizationId) this.org(organizationId).apply(event);
    this.consumed++;
    this.applied.advance(seq);
  }

  /** Usernames shown in project member lists follow identity's renames (rare: a scan of the organizations). */
  private renamed(d: { userId: string; username: string }): void {
    for (const org of this.orgs.values()) {
      const user = org.users.get(d.userId);
      if (user) user.username = d.username;
    }
  }

  waitForSequence(seq: number, timeoutMs = this.timeoutMs): Promise<void> {
    return waitUntilApplied(this.applied, seq, timeoutMs).then((reached) => notLate(reached, `sequence ${seq}`));
  }

  /** Until the view has applied version `version` of the stream `access-<organizationId>`. */
  waitForAccessVersion(organizationId: string, version: number): Promise<void> {
    const ready = () => this.org(organizationId).accessVersion >= version;
    return waitUntil(this.applied, ready, this.timeoutMs).then((reached) => notLate(reached, `access-${organizationId}@${version}`));
  }

  /**
   * Until the view has applied each position (consistency tokens of the caller's writes): an organization's
   * stream (`organization-<id>`, membership) or its roles (`access-<id>`). Positions of other streams say
   * nothing about this view and are not waited for. Late: SERVICE_UNAVAILABLE.
   */
  waitForPositions(positions: readonly StreamPosition[], timeoutMs = this.timeoutMs): Promise<void> {
    const versionOf = (p: StreamPosition): number => {
      const id = organizationOfStream(p.streamId);
      return id === undefined ? Infinity : appliedVersion(this.orgs.get(id), p.streamId);
    };
    const ready = () => positions.every((p) => versionOf(p) >= p.version);
    if (ready()) return Promise.resolve();
    return waitUntil(this.applied, ready, timeoutMs).then((reached) => notLate(reached, positions.map(formatConsistencyToken).join(', ')));
  }

  /** Until everything in the stream when this was called has been applied (`lastSequence` shares concurrent look-ups). */
  async catchUp(timeoutMs = this.timeoutMs): Promise<void> {
    let last: number;
    try {
      last = await this.lastSequence();
    } catch {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the events stream did not answer');
    }
    await this.waitForSequence(last, timeoutMs);
  }
}
