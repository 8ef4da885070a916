import { appliedVersion, OrgAccess, organizationOfStream, type OrgAccessSnapshot } from '@app/access-model';
import { organizationIdOf, type CatalogueEvent, type CheckPermissionsReply, type OrgAccessReply, type StreamPosition } from '@app/contracts';
import { waitUntil, type Progress } from '@app/event-store';

/** Services whose events change who may do what in an organization (authorization's view folds the same). */
const RELEVANT = new Set(['membership', 'authorization']);

interface Entry {
  org?: OrgAccess;
  /** the stream sequence the loaded state reflects: later events of the organization are applied to it */
  from: number;
  /** while loading: the organization's events that arrived meanwhile, applied after the state if newer than it */
  held?: Array<{ event: CatalogueEvent; sequence: number }>;
  loading?: Promise<OrgAccess | undefined>;
  /** too large to load (authorization's `tooLarge`): its checks are asked of authorization (`isRemote`) */
  remote?: boolean;
  /** remote: the sequence of the organization's last event the consumer handed over (or of any event, when it became remote) */
  changedAt?: number;
  /** remote: authorization's answers by question, each with the read index it was asked at (`remoteAnswer`) */
  answers?: Map<string, { reply: CheckPermissionsReply; readIndex: number }>;
}

/** Authorization's answers kept per remote organization, the oldest dropped first. */
const MAX_REMOTE_ANSWERS = 10_000;

/**
 * The gateway's own access index (docs/architecture.md "Checks at the gateway"): the organizations this gateway
 * has served, each loaded on first use from authorization's view (`qry.authorization.org-access`, at a sequence
 * at least what this index has seen) and kept true by the membership and authorization events the gateway's
 * consumer reads anyway for its token cache. A guarded request is decided here, by the same `OrgAccess` that
 * authorization folds, once the consumer applied the request's read index — no hop. At most `maxOrganizations`
 * are kept; the least recently used one is dropped (and loaded again when needed). An organization whose state
 * does not fit in one NATS message is not kept: its entry says so, and its checks go to authorization.
 */
export class AccessIndex {
  private readonly orgs = new Map<string, Entry>();
  /** the highest stream sequence the consumer handed over (any event) */
  private seen = 0;

  constructor(
    /** the consumer's position: what a wait for a caller's writes watches */
    private readonly progress: () => Progress | undefined,
    private readonly maxOrganizations = 10_000,
  ) {}

  /** Every event the consumer delivers, in stream order (`event` undefined: not decoded, not relevant). */
  ingest(event: CatalogueEvent | undefined, sequence: number): void {
    this.seen = Math.max(this.seen, sequence);
    if (!event || !RELEVANT.has(event.service)) return;
    const id = organizationIdOf(event);
    const entry = id === undefined ? undefined : this.orgs.get(id);
    if (!entry) return;
    if (entry.held) entry.held.push({ event, sequence });
    else if (entry.remote) entry.changedAt = sequence;
    else if (sequence > entry.from)
      try {
        entry.org!.apply(event);
      } catch {
        // never in the way of the token cache, which the same consumer feeds: the organization is loaded again
        this.orgs.delete(id!);
      }
  }

  /**
   * Loads the organization the first time it is asked for (`load` must answer at a sequence at least
   * `atLeast`: what this index has seen, and the request's read index), else marks it most recently used.
   */
  async load(organizationId: string, load: (atLeast: number) => Promise<OrgAccessReply<OrgAccessSnapshot>>, readIndex = 0): Promise<void> {
    const entry = this.orgs.get(organizationId);
    if (entry) {
      this.orgs.delete(organizationId); // most recently used last
      this.orgs.set(organizationId, entry);
      await entry.loading;
      return;
    }
    const created: Entry = { from: 0, held: [] };
    created.loading = load(Math.max(this.seen, readIndex))
      .then((reply) => {
        if (reply.tooLarge) {
          // its events held meanwhile are not kept: answers asked before any of them are not used (`remoteAnswer`)
          Object.assign(created, { remote: true, held: undefined, loading: undefined, changedAt: this.seen, answers: new Map() });
          return undefined;
        }
        const org = reply.snapshot ? OrgAccess.fromSnapshot(reply.snapshot) : new OrgAccess(organizationId);
        for (const { event, sequence } of created.held!) if (sequence > reply.sequence) org.apply(event);
        Object.assign(created, { org, from: reply.sequence, held: undefined, loading: undefined });
        return org;
      })
      .catch((err: unknown) => {
        // forgotten: the next request loads it again
        if (this.orgs.get(organizationId) === created) this.orgs.delete(organizationId);
        throw err;
      });
    this.orgs.set(organizationId, created);
    this.evict();
    await created.loading;
  }

  /**
   * Whether the organization is too large to keep here (its state does not fit in one NATS message): its checks
   * are authorization's (`qry.authorization.check`, one hop). It stays so until it is dropped from the index.
   */
  isRemote(organizationId: string): boolean {
    return this.orgs.get(organizationId)?.remote === true;
  }

  /**
   * A remote organization's answer to `question` that authorization gave at a read index at or after the
   * organization's last event that this index has seen: what authorization would answer now, once the consumer
   * applied the request's read index (the guards wait for it). The organization's state is the fold of its own
   * events (those naming it, as `ingest` routes them), so no other event can change the answer.
   */
  remoteAnswer(organizationId: string, question: string): CheckPermissionsReply | undefined {
    const entry = this.orgs.get(organizationId);
    const kept = entry?.answers?.get(question);
    return kept && kept.readIndex >= entry!.changedAt! ? kept.reply : undefined;
  }

  /** Keeps authorization's answer to `question` about a remote organization, asked at `readIndex`. */
  keepRemoteAnswer(organizationId: string, question: string, reply: CheckPermissionsReply, readIndex: number): void {
    const answers = this.orgs.get(organizationId)?.answers;
    if (!answers) return;
    answers.delete(question);
    answers.set(question, { reply, readIndex });
    if (answers.size > MAX_REMOTE_ANSWERS) answers.delete(answers.keys().next().value!);
  }

  /** The organization's state if it is loaded and has seen an event. */
  find(organizationId: string): OrgAccess | undefined {
    const org = this.orgs.get(organizationId)?.org;
    return org?.exists ? org : undefined;
  }

  /**
   * Until the organization reflects the caller's writes (consistency tokens: `organization-<id>` of membership,
   * `access-<id>` of authorization's roles; others are not about this index); false when `timeoutMs` passed.
   */
  reflects(organizationId: string, positions: readonly StreamPosition[], timeoutMs: number): Promise<boolean> {
    const versionOf = (p: StreamPosition): number =>
      organizationOfStream(p.streamId) === organizationId ? appliedVersion(this.orgs.get(organizationId)?.org, p.streamId) : Infinity;
    const ready = () => positions.every((p) => versionOf(p) >= p.version);
    const progress = this.progress();
    return ready() || !progress ? Promise.resolve(ready()) : waitUntil(progress, ready, timeoutMs);
  }

  get size(): number {
    return this.orgs.size;
  }

  private evict(): void {
    for (const [id, entry] of this.orgs) {
      if (this.orgs.size <= this.maxOrganizations) return;
      if (!entry.loading) this.orgs.delete(id);
    }
  }
}
