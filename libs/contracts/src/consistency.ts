/**
 * Consistency tokens (docs/architecture.md "Writes that do not wait on the broker"): the position of an append,
 * `<streamId>@<version>`, which a command's reply carries and a later read waits for. Opaque to clients; the
 * gateway checks the form before anything waits on it.
 */
export interface StreamPosition {
  streamId: string;
  version: number;
}

/** the key of a command reply that carries its token (the gateway takes it out of the body into the `Consistency-Token` header) */
export const CONSISTENCY_TOKEN_FIELD = 'consistencyToken';
/** the most tokens one request may name (header, and what the gateway remembers of the caller) */
export const MAX_CONSISTENCY_TOKENS = 16;

const TOKEN = /^([a-z]{1,30}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([1-9][0-9]{0,14})$/;

export const formatConsistencyToken = (p: StreamPosition): string => `${p.streamId}@${p.version}`;

/** The position a token names, or undefined when it is not a token. */
export function parseConsistencyToken(token: string): StreamPosition | undefined {
  const m = TOKEN.exec(token);
  return m ? { streamId: m[1], version: Number(m[2]) } : undefined;
}

/** Per stream the highest version named: what waiting for all of them means. */
export function latestPositions(positions: Iterable<StreamPosition>): StreamPosition[] {
  const latest = new Map<string, number>();
  for (const p of positions) latest.set(p.streamId, Math.max(latest.get(p.streamId) ?? 0, p.version));
  return [...latest].map(([streamId, version]) => ({ streamId, version }));
}
