import { createHash, randomBytes } from 'node:crypto';

/** Personal API tokens: `ppt_` + 43 url-safe characters (256 random bits). Only SHA-256 is stored. */
export const API_TOKEN_PREFIX = 'ppt_';

export const generateApiToken = (): string => `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
