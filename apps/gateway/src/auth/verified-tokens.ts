import { JSONCodec, type JetStreamManager, type NatsConnection } from 'nats';
import { eventsStreamName, parseEventSubject, type AuthenticatedUser, type DomainEvent } from '@app/contracts';
import { invalidationOf, TokenCache, tokenKey } from './token-cache';

export const VERIFIED_TOKENS = Symbol('VERIFIED_TOKENS');

const codec = JSONCodec<DomainEvent>();

type Logger = { error(obj: object, msg: string): void };

/**
 * The gateway's verified API tokens (token-cache.ts), kept true by identity's events, and the read index
 * every request waits for: the events stream's last sequence as of the request's arrival, looked up once for
 * all the requests that arrived while no look-up was in flight. A request may use the cache (and
 * authorization's check is asked to reflect at least that sequence) only once this process's consumer applied
 * the stream up to it, so a revocation answered anywhere is seen by the next request everywhere.
 */
export class VerifiedTokens {
  readonly cache: TokenCache;
  private position = 0;
  private waiters = new Set<{ seq: number; resolve: () => void }>();
  private inflight?: Promise<number>;
  private queued?: Promise<number>;
  private stopConsuming?: () => Promise<void>;
  private jsm?: JetStreamManager;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    maxEntries?: number,
    private readonly logger?: Logger,
  ) {
    this.cache = new TokenCache(maxEntries);
  }

  /** Consumes the events stream from its current end (an empty cache needs no history), ordered, in memory. */
  async start(): Promise<void> {
    const stream = eventsStreamName();
    this.jsm = await this.nc.jetstreamManager();
    const info = await this.jsm.streams.info(stream);
    this.position = info.state.last_seq;
    const consumer = await this.nc.jetstream().consumers.get(stream, { opt_start_seq: this.position + 1 });
    const messages = await consumer.consume({ max_messages: 1000 });
    const loop = (async () => {
      for await (const msg of messages) {
        const parsed = parseEventSubject(msg.subject);
        if (parsed?.service === 'identity') {
          try {
            const inv = invalidationOf(parsed.type, codec.decode(msg.data).data as Record<string, unknown>);
            if (inv) this.cache.apply(inv, msg.info.streamSequence);
          } catch (err) {
            this.logger?.error({ seq: msg.info.streamSequence, err: (err as Error).message }, 'undecodable identity event skipped by the token cache');
          }
        }
        this.advance(msg.info.streamSequence);
      }
    })().catch((err: Error) => this.logger?.error({ err: err.message }, 'token cache stopped consuming'));
    this.stopConsuming = async () => {
      await messages.close();
      await loop;
    };
  }

  async stop(): Promise<void> {
    await this.stopConsuming?.();
  }

  /** The read index of a request that arrives now: resolves once this process applied the stream up to it. */
  async readIndex(): Promise<number> {
    const seq = await this.lastSequenceShared();
    if (this.position < seq)
      await new Promise<void>((resolve, reject) => {
        const w = { seq, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => (this.waiters.delete(w), reject(new Error('the token cache did not catch up in time'))), this.timeoutMs);
        this.waiters.add(w);
      });
    return seq;
  }

  lookup(token: string): AuthenticatedUser | undefined {
    return this.cache.get(tokenKey(token), Date.now());
  }

  /** Keeps identity's answer for an API token (sessions end by logout, which is no event: never cached). */
  remember(token: string, user: AuthenticatedUser, seenSeq: number): void {
    if (user.tokenKind === 'api') this.cache.put(tokenKey(token), user, seenSeq, Date.now());
  }

  private advance(seq: number): void {
    this.position = Math.max(this.position, seq);
    for (const w of this.waiters)
      if (w.seq <= this.position) {
        this.waiters.delete(w);
        w.resolve();
      }
  }

  /** One stream look-up in flight; a caller arriving meanwhile waits for the next one, sent after it arrived. */
  private lastSequenceShared(): Promise<number> {
    if (!this.inflight) return this.startLookUp();
    this.queued ??= this.inflight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.startLookUp();
      });
    return this.queued;
  }

  private startLookUp(): Promise<number> {
    const p = this.jsm!.streams.info(eventsStreamName()).then((info) => info.state.last_seq);
    this.inflight = p;
    const clear = () => {
      if (this.inflight === p) this.inflight = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
