import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Idempotency-Key records (API.md: a write repeated with the same key within 24 h returns the first
 * response and changes nothing). Pure helpers; the interceptor keeps the records in a NATS KV bucket.
 *
 * Responses may hold secrets shown once (a new API token, temporary passwords, a session token). They are
 * stored encrypted with AES-256-GCM under a key derived from the client's Idempotency-Key, which itself is
 * stored only as a SHA-256 hash: the bucket alone never reveals a secret.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** a running request renews its pending record this often */
export const HEARTBEAT_MS = 1_000;
/** a pending record not renewed for this long belongs to a request that died: the next request takes it over */
export const LEASE_MS = 5_000;

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export type IdempotencyRecord =
  /** running; `owner` is the id of the attempt holding it, `renewedAt` its last heartbeat */
  | { state: 'pending'; fingerprint: string; startedAt: number; owner: string; renewedAt: number }
  /** the gateway answered OUTCOME_UNKNOWN: the next request with this key continues it at once */
  | { state: 'unknown'; fingerprint: string; startedAt: number }
  | { state: 'done'; fingerprint: string; startedAt: number; status: number; iv: string; tag: string; body: string };

/**
 * What an attempt (`owner`, sending `fingerprint`) does with the record it found under its key:
 * `take` it over (nothing there, an OUTCOME_UNKNOWN, or a holder whose lease lapsed), `continue` it (its own
 * claim, written although the broker's answer was lost), `replay` the stored response, refuse a `mismatch`
 * (the key was used for another request) or wait while it is `busy` (its holder is alive).
 */
export function verdict(
  record: IdempotencyRecord | undefined,
  fingerprint: string,
  owner: string,
  now: number,
): 'take' | 'continue' | 'replay' | 'mismatch' | 'busy' {
  if (!record) return 'take';
  if (record.fingerprint !== fingerprint) return 'mismatch';
  if (record.state === 'done') return 'replay';
  if (record.state === 'unknown') return 'take';
  if (record.owner === owner) return 'continue';
  return now - record.renewedAt > LEASE_MS ? 'take' : 'busy';
}

/** KV key of one client's key: scope (user id or 'anonymous') and key, hashed. */
export const recordKey = (scope: string, key: string): string => createHash('sha256').update(`${scope}\0${key}`).digest('hex');

/** The same request: method, path and body. A key reused for another request is refused. */
export const fingerprintOf = (method: string, url: string, body: unknown): string =>
  createHash('sha256')
    .update(`${method} ${url}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');

const cipherKey = (scope: string, key: string): Buffer => Buffer.from(hkdfSync('sha256', key, scope, 'idempotent-response', 32));

export function sealResponse(scope: string, key: string, fingerprint: string, startedAt: number, status: number, body: unknown): IdempotencyRecord {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cipherKey(scope, key), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(body ?? null), 'utf8'), cipher.final()]);
  return {
    state: 'done',
    fingerprint,
    startedAt,
    status,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    body: data.toString('base64'),
  };
}

export function openResponse(scope: string, key: string, record: Extract<IdempotencyRecord, { state: 'done' }>): unknown {
  const decipher = createDecipheriv('aes-256-gcm', cipherKey(scope, key), Buffer.from(record.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
  const text = Buffer.concat([decipher.update(Buffer.from(record.body, 'base64')), decipher.final()]).toString('utf8');
  return JSON.parse(text);
}
