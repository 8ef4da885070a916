import { createHash, randomBytes } from 'node:crypto';

/** Personal API tokens: `ppt_` + 43 url-safe characters (256 random bits). Only SHA-256 is stored. */
export const API_TOKEN_PREFIX = 'ppt_';

export const generateApiToken = (): string => `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** A UUID derived from a string, for ids that must be the same on every replica (bootstrap). */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
