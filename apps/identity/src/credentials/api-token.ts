import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Bearer secrets (see docs/identity.md):
 *   personal API token       `ppt_` + 64 hex (256 random bits) + 8 hex CRC32 of the 64 hex  (76 characters)
 *   service account's token  `pps_` + the same shape
 *   login session token      `ppl_` + the same shape (`pps_` until service accounts took it: a `pps_` token
 *                            that is no service account's is looked up as a session, until those have expired)
 * The prefix makes a leaked token recognisable (secret scanners); the checksum lets a scanner or the server
 * reject a mistyped or made-up token without a database look-up. Only SHA-256 of the whole token is stored.
 */
export const API_TOKEN_PREFIX = 'ppt_';
export const SERVICE_ACCOUNT_TOKEN_PREFIX = 'pps_';
export const SESSION_TOKEN_PREFIX = 'ppl_';
/** the prefix sessions had before service accounts (API.md gives `pps_` to service accounts' tokens) */
export const LEGACY_SESSION_TOKEN_PREFIX = 'pps_';
const SHAPE = /^(ppt_|pps_|ppl_)([0-9a-f]{64})([0-9a-f]{8})$/;

const checksum = (secret: string): string => crc32(secret).toString(16).padStart(8, '0');

function generate(prefix: string): string {
  const secret = randomBytes(32).toString('hex');
  return `${prefix}${secret}${checksum(secret)}`;
}

export const generateApiToken = (): string => generate(API_TOKEN_PREFIX);
export const generateSessionToken = (): string => generate(SESSION_TOKEN_PREFIX);
export const generateServiceAccountToken = (): string => generate(SERVICE_ACCOUNT_TOKEN_PREFIX);

/** True when the token has the generated shape and its checksum matches. */
export function hasValidChecksum(token: string): boolean {
  const m = SHAPE.exec(token);
  return !!m && checksum(m[2]) === m[3];
}

/**
 * Cheap pre-check before any look-up: a token of the generated length with a wrong checksum is refused.
 * Tokens of other shapes (an operator's BOOTSTRAP_ADMIN_TOKEN) are looked up by hash as they are.
 */
export const obviouslyForged = (token: string): boolean => token.length === 76 && /^(ppt_|pps_|ppl_)/.test(token) && !hasValidChecksum(token);

export const isSessionToken = (token: string): boolean => token.startsWith(SESSION_TOKEN_PREFIX);
export const isServiceAccountToken = (token: string): boolean => token.startsWith(SERVICE_ACCOUNT_TOKEN_PREFIX);

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
