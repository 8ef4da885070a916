import type { JetStreamManager, NatsConnection } from 'nats';
import { parseEventSubject, type AuthenticatedUser, type Naming, type UserProfile } from '@app/contracts';
import { consumeEvents, streamLastSequence, waitUntilApplied, type ConsumerLogger, type EventConsumer } from '@app/event-store';
import { holdReadLease, jetStreamManager, retryTransient, type ReadLease } from '@app/messaging';
import { invalidationOf, TokenCache, tokenKey } from './token-cache';
import { AccessIndex } from './access-index';
import { PeoplePages } from '../organizations/people-pages';

export const VERIFIED_TOKENS = Symbol('VERIFIED_TOKENS');

/** identity's events for the token cache, membership's and authorization's for the access index */
const DECODED = new Set(['identity', 'membership', 'authorization']);

/**
 * The gateway's verified API tokens and sessions (token-cache.ts), kept true by identity's events, and the read index
 * every request waits for: the events stream's last sequence as of the request's arrival, looked up once for
 * all the requests that arrived while no look-up was in flight. A request may use the cache (and
 * authorization's check is asked to reflect at least that sequence) only once this process's consumer applied
 * the stream up to it, so a revocation answered anywhere is seen by the next request everywhere.
 */
export class VerifiedTokens {
  readonly cache: TokenCache;
  /** fed by the same consumer: the membership and authorization events (access-index.ts) */
  readonly access = new AccessIndex(() => this.consumer);
  /** people pages as membership answered them, kept while no event may have changed them (fed by the same consumer) */
  readonly people = new PeoplePages();
  private consumer?: EventConsumer;
  private jsm?: JetStreamManager;
  private lease?: ReadLease;

  constructor(
    private readonly nc: NatsConnection,
    private readonly naming: Naming,
    private readonly timeoutMs: number,
    maxEntries?: number,
    private readonly logger?: ConsumerLogger,
  ) {
    this.cache = new TokenCache(maxEntries);
  }

  /** Consumes the events stream from its current end (an empty cache needs no history), ordered, in memory. */
  async start(): Promise<void> {
    this.jsm = await jetStreamManager(this.nc);
    this.consumer = await consumeEvents({
      name: 'gateway-token-cache',
      js: this.nc.jetstream(),
      jsm: this.jsm,
      naming: this.naming,
      mode: 'ordered',
      start: await retryTransient(() => streamLastSequence(this.jsm!, this.naming)),
      decode: (subject) => DECODED.has(parseEventSubject(subject)?.service ?? ''),
      maxBatch: 100,
      // the cache is rebuilt empty at every start: an event it cannot read is logged, never dead-lettered
      publishDeadLetters: false,
      apply: (events) => {
        for (const { event, sequence } of events) {
          const inv = event?.service === 'identity' ? invalidationOf(event) : undefined;
          if (inv) this.cache.apply(inv, sequence);
          this.access.ingest(event, sequence);
          this.people.ingest(event, sequence);
        }
      },
      logger: this.logger,
    });
    this.lease = await holdReadLease(
      this.nc,
      this.naming,
      () => streamLastSequence(this.jsm!, this.naming),
      (held, reason) =>
        held
          ? this.logger?.warn({}, 'read lease held again: GET /me and the permission check answer without a look-up')
          : this.logger?.warn({ reason }, "read lease lost: GET /me and the permission check look up the events stream's end until it is renewed"),
    );
  }

  async stop(): Promise<void> {
    await this.lease?.stop();
    await this.consumer?.stop();
  }

  /**
   * The read index of a request that arrives now: resolves once this process applied the stream up to it. The
   * stream's end, looked up; or, for a request answered from this process's memory (`leased`) while the read
   * lease holds, the lease's floor: every write that had to be seen at once (a revocation) was fenced into it
   * before it answered (read-leases.ts), so no look-up is needed; the index is then what this process applied.
   * `leased` in the result says which it was.
   */
  async readIndex(leased = false): Promise<{ sequence: number; leased: boolean }> {
    const floor = leased ? this.lease?.floor() : undefined;
    const sequence = floor ?? (await streamLastSequence(this.jsm!, this.naming));
    if (!(await waitUntilApplied(this.consumer!, sequence, this.timeoutMs))) throw new Error('the token cache did not catch up in time');
    // under the lease, what this process applied (at least the floor): what its memory answers reflect
    return floor === undefined ? { sequence, leased: false } : { sequence: this.consumer!.position(), leased: true };
  }

  /** Whether `GET /me` and the check skip the look-up now (the read lease holds): the gauge `gateway_read_lease_held`. */
  leaseHeld(): boolean {
    return this.lease?.floor() !== undefined;
  }

  lookup(token: string): AuthenticatedUser | undefined {
    return this.cache.get(tokenKey(token), Date.now());
  }

  /**
   * Keeps identity's answer for an API token or a session: every way either ends is an event the cache applies
   * (logout too: `user.sessions-ended`, reason `logout`), and a session is never used past its `expiresAt`.
   */
  remember(token: string, user: AuthenticatedUser, seenSeq: number): void {
    this.cache.put(tokenKey(token), user, seenSeq, Date.now());
  }

  /**
   * The profile of the token's user, kept with its cached principal (`GET /me` without a hop): identity's
   * answer, changed since by the user's events (username, screen name, email) as the cache applied them.
   */
  profile(token: string): UserProfile | undefined {
    return this.cache.profile(tokenKey(token));
  }

  /** Keeps identity's answer to `get-user` for a request that waited for `seenSeq` (unless an event of the user's came after it). */
  rememberProfile(token: string, profile: UserProfile, seenSeq: number): void {
    this.cache.putProfile(tokenKey(token), profile, seenSeq);
  }
}
