import type { IncomingHttpHeaders } from 'node:http';
import { formatConsistencyToken, latestPositions, MAX_CONSISTENCY_TOKENS, parseConsistencyToken, type StreamPosition } from '@app/contracts';

/** The header a write answers with and a read may send back (docs/api.md "Consistency tokens"). */
export const CONSISTENCY_HEADER = 'consistency-token';
/** How long the gateway remembers a caller's writes for the caller's later reads (a client that does not send the token back). */
export const REMEMBER_MS = 10_000;
const MAX_CALLERS = 10_000;

/**
 * The tokens of a request's `Consistency-Token` header (one, or several separated by commas), or a message
 * saying why they are not tokens: the gateway answers 400 VALIDATION_FAILED before anything waits on them.
 */
export function tokensOfHeader(headers: IncomingHttpHeaders): { tokens: string[] } | { problem: string } {
  const raw = headers[CONSISTENCY_HEADER];
  if (raw === undefined) return { tokens: [] };
  const parts = (Array.isArray(raw) ? raw.join(',') : raw)
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (parts.length === 0 || parts.length > MAX_CONSISTENCY_TOKENS)
    return { problem: `Consistency-Token must hold 1 to ${MAX_CONSISTENCY_TOKENS} tokens, as a write answered them` };
  if (parts.some((t) => !parseConsistencyToken(t))) return { problem: 'Consistency-Token is not a token this API gave' };
  return { tokens: parts };
}

/**
 * Per caller, the positions of their recent writes through this gateway (`REMEMBER_MS`), so that their next
 * reads wait for them even when the client does not send the token back. Bounded: past MAX_CALLERS the oldest
 * callers are forgotten (their reads then wait only for what the client sends, or for what is in the stream).
 */
export class CallerWrites {
  private readonly callers = new Map<string, Map<string, { version: number; at: number }>>();

  constructor(
    private readonly rememberMs = REMEMBER_MS,
    private readonly now: () => number = Date.now,
  ) {}

  remember(callerId: string, token: string): void {
    const p = parseConsistencyToken(token);
    if (!p) return;
    const writes = this.callers.get(callerId) ?? new Map<string, { version: number; at: number }>();
    this.callers.delete(callerId);
    if (this.callers.size >= MAX_CALLERS) this.callers.delete(this.callers.keys().next().value!);
    this.callers.set(callerId, writes);
    const known = writes.get(p.streamId);
    writes.set(p.streamId, { version: Math.max(known?.version ?? 0, p.version), at: this.now() });
    if (writes.size > MAX_CONSISTENCY_TOKENS) writes.delete(writes.keys().next().value!);
  }

  /** The caller's writes of the last `rememberMs`, one position per stream. */
  recent(callerId: string): StreamPosition[] {
    const writes = this.callers.get(callerId);
    if (!writes) return [];
    const since = this.now() - this.rememberMs;
    for (const [streamId, w] of writes) if (w.at < since) writes.delete(streamId);
    if (writes.size === 0) this.callers.delete(callerId);
    return [...writes].map(([streamId, w]) => ({ streamId, version: w.version }));
  }

  /** What a request's messages name in `meta.after`: the header's tokens and the caller's recent writes, the latest per stream. */
  after(callerId: string | undefined, sent: readonly string[] = []): string[] | undefined {
    const positions = [...sent.flatMap((t) => parseConsistencyToken(t) ?? []), ...(callerId ? this.recent(callerId) : [])];
    return positions.length ? latestPositions(positions).map(formatConsistencyToken) : undefined;
  }
}
