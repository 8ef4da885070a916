import type { CatalogueEvent } from '@app/contracts';
import {
  generateApiToken,
  generateServiceAccountToken,
  generateSessionToken,
  hasValidChecksum,
  isServiceAccountToken,
  isSessionToken,
  obviouslyForged,
} from './api-token';
import { createHmac, randomBytes } from 'node:crypto';
import { generateTemporaryPassword, hashPassword, temporaryPasswordOf, verifyPassword } from './password-hash';
import { supersededTokenIds } from './credentials.repository';
import { usernameBaseOf } from '../commands/create-accounts/create-accounts.handler';

describe('tokens', () => {
  it('have a prefix, 256 random bits and a CRC32 checksum', () => {
    const t = generateApiToken();
    expect(t).toMatch(/^ppt_[0-9a-f]{72}$/);
    expect(generateSessionToken()).toMatch(/^ppl_[0-9a-f]{72}$/);
    expect(hasValidChecksum(t)).toBe(true);
    expect(generateApiToken()).not.toBe(t);
  });
  it("a service account's token has its own prefix, pps_, and the same checksum scheme", () => {
    const t = generateServiceAccountToken();
    expect(t).toMatch(/^pps_[0-9a-f]{72}$/);
    expect(hasValidChecksum(t)).toBe(true);
    expect(isServiceAccountToken(t)).toBe(true);
    expect(isSessionToken(t)).toBe(false);
    expect(isServiceAccountToken(generateSessionToken())).toBe(false);
    const flipped = t.slice(0, 12) + (t[12] === 'a' ? 'b' : 'a') + t.slice(13);
    expect(obviouslyForged(flipped)).toBe(true);
    expect(generateServiceAccountToken()).not.toBe(t);
  });
  it('a changed character breaks the checksum', () => {
    const t = generateApiToken();
    const flipped = t.slice(0, 10) + (t[10] === 'a' ? 'b' : 'a') + t.slice(11);
    expect(hasValidChecksum(flipped)).toBe(false);
    expect(obviouslyForged(flipped)).toBe(true);
    expect(obviouslyForged('ppt_bootstrap-token-for-tests-0123456789')).toBe(false);
  });
});

describe('passwords', () => {
  it('scrypt hash with its parameters and a salt; verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  }, 30_000); // four scrypt runs: well under a second alone, several seconds on a busy 2-core machine
  it('temporary passwords are long and random', () => {
    expect(generateTemporaryPassword().length).toBeGreaterThanOrEqual(20);
    expect(generateTemporaryPassword()).not.toBe(generateTemporaryPassword());
  });
  it("a batch's temporary passwords repeat for the same seed and index, and cannot be computed from the seed alone", () => {
    const seed = randomBytes(32).toString('base64url');
    const key = randomBytes(32);
    expect(temporaryPasswordOf(key, seed, 3)).toBe(temporaryPasswordOf(key, seed, 3));
    expect(temporaryPasswordOf(key, seed, 3)).not.toBe(temporaryPasswordOf(key, seed, 4));
    expect(temporaryPasswordOf(key, seed, 3)).toHaveLength(24);
    // whoever knows the client's Idempotency-Key (hence the seed) but not identity's key gets another password
    expect(temporaryPasswordOf(randomBytes(32), seed, 3)).not.toBe(temporaryPasswordOf(key, seed, 3));
    const seedOnly = createHmac('sha256', Buffer.from(seed, 'base64url')).update('temporary-password:3').digest().subarray(0, 18).toString('base64url');
    expect(temporaryPasswordOf(key, seed, 3)).not.toBe(seedOnly);
  });
});

describe('username from email', () => {
  it.each([
    ['tom@example.com', 'tom'],
    ['Tom.Fern+ci@x.io', 'Tom.Fern-ci'],
    ['_x@x.io', 'x-user'],
    ['é@x.io', 'user-user'],
    [`${'a'.repeat(60)}@x.io`, 'a'.repeat(35)],
  ])('%s → %s', (email, base) => {
    expect(usernameBaseOf(email)).toBe(base);
  });
});

describe('superseded API token ids', () => {
  const reset = (tokenId: string) => ({ type: 'user.api-token-reset', data: { tokenId } }) as unknown as CatalogueEvent;
  const revoked = (tokenId: string) => ({ type: 'user.api-token-revoked', data: { tokenId } }) as unknown as CatalogueEvent;
  it('every token id of the stream but the last reset; all of them after a revocation; none that is not in the stream', () => {
    expect(supersededTokenIds([])).toEqual([]);
    expect(supersededTokenIds([reset('a')])).toEqual([]);
    expect(supersededTokenIds([reset('a'), reset('b'), reset('c')])).toEqual(['a', 'b']);
    expect(supersededTokenIds([reset('a'), reset('b'), revoked('b')])).toEqual(['a', 'b']);
    expect(supersededTokenIds([reset('a'), revoked('a'), reset('b')])).toEqual(['a']);
  });
});
