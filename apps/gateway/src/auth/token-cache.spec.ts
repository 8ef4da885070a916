import { createHash } from 'node:crypto';
import { catalogueEvent, eventMetadata, systemMeta, type AuthenticatedUser, type CatalogueEvent } from '@app/contracts';
import { invalidationOf, REVERIFY_AFTER_MS, TokenCache, tokenKey, usable } from './token-cache';

const U = '00000000-0000-4000-8000-000000000001';
const V = '00000000-0000-4000-8000-000000000002';
const T1 = '00000000-0000-4000-8000-0000000000a1';
const T2 = '00000000-0000-4000-8000-0000000000a2';
const api = (tokenId: string, userId = U): AuthenticatedUser => ({ userId, username: 'ann', tokenKind: 'api', tokenId, expiresAt: null });
const session = (userId = U): AuthenticatedUser => ({
  userId,
  username: 'ann',
  tokenKind: 'session',
  sessionEpoch: 0,
  expiresAt: new Date(10_000_000).toISOString(),
});

function cacheWith(entries: Record<string, AuthenticatedUser>, max?: number) {
  const cache = new TokenCache(max);
  for (const [k, u] of Object.entries(entries)) cache.put(k, u, 0, 0);
  return cache;
}
/** An identity event as the consumer hands it over (checked against the catalogue). */
const ev = (type: string, data: Record<string, unknown>): CatalogueEvent =>
  catalogueEvent({
    id: '00000000-0000-4000-8000-0000000000ee',
    type,
    version: 1,
    streamId: `user-${U}`,
    streamVersion: 2,
    service: 'identity',
    occurredAt: new Date(0).toISOString(),
    data,
    metadata: eventMetadata(systemMeta('test')),
  });
const keys = (cache: TokenCache, ...ks: string[]) => ks.filter((k) => cache.get(k, 1) !== undefined);

const ORG = '00000000-0000-4000-8000-0000000000c1';
/** A service account's event (organization-scoped). */
const saEv = (type: string, data: Record<string, unknown>): CatalogueEvent =>
  catalogueEvent({ ...ev('user.sessions-ended', { userId: U, reason: 'logout' }), type, streamId: `service-account-${U}`, organizationId: ORG, data });
const saToken = (tokenId: string): AuthenticatedUser => ({
  userId: U,
  username: 'ci',
  tokenKind: 'service-account',
  tokenId,
  organizationId: ORG,
  expiresAt: null,
});

describe('verified-token cache: service accounts', () => {
  const ref = { serviceAccountId: U, organizationId: ORG };
  it('token-revoked drops that token only; deactivated and deleted drop every token of the account', () => {
    const cache = cacheWith({ a: saToken(T1), b: saToken(T2), other: api(T1, V) });
    cache.apply(invalidationOf(saEv('service-account.token-revoked', { ...ref, tokenId: T1, name: 'pipeline' }))!, 5);
    expect(keys(cache, 'a', 'b', 'other')).toEqual(['b', 'other']);
    cache.apply(invalidationOf(saEv('service-account.deactivated', { ...ref, name: 'ci' }))!, 6);
    expect(keys(cache, 'b', 'other')).toEqual(['other']);
    const again = cacheWith({ a: saToken(T1), other: api(T1, V) });
    again.apply(invalidationOf(saEv('service-account.deleted', { ...ref, name: 'ci' }))!, 7);
    expect(keys(again, 'a', 'other')).toEqual(['other']);
  });
  it('a rename updates the cached principal', () => {
    const cache = cacheWith({ a: saToken(T1) });
    cache.apply(invalidationOf(saEv('service-account.details-changed', { ...ref, name: 'ci2', description: '', previousName: 'ci' }))!, 5);
    expect(cache.get('a', 1)?.username).toBe('ci2');
  });
});

describe('verified-token cache: invalidation rules', () => {
  it('api-token-reset drops the user’s API tokens of another id, keeps the new one, sessions and other users', () => {
    const cache = cacheWith({ old: api(T1), now: api(T2), s: session(), other: api(T1, V) });
    cache.apply(invalidationOf(ev('user.api-token-reset', { userId: U, tokenId: T2 }))!, 5);
    expect(keys(cache, 'old', 'now', 's', 'other')).toEqual(['now', 's', 'other']);
  });

  it('api-token-revoked drops every API token of the user; sessions-ended every session', () => {
    const cache = cacheWith({ a: api(T1), s: session(), other: session(V) });
    cache.apply(invalidationOf(ev('user.api-token-revoked', { userId: U, tokenId: T1, reason: 'password-reset', organizationId: V }))!, 5);
    expect(keys(cache, 'a', 's', 'other')).toEqual(['s', 'other']);
    cache.apply(invalidationOf(ev('user.sessions-ended', { userId: U, reason: 'password-changed' }))!, 6);
    expect(keys(cache, 's', 'other')).toEqual(['other']);
  });

  it('sessions-ended by a logout drops the user’s sessions and keeps their API token', () => {
    const cache = cacheWith({ a: api(T1), s1: session(), s2: session(), other: session(V) });
    cache.apply(invalidationOf(ev('user.sessions-ended', { userId: U, reason: 'logout' }))!, 5);
    expect(keys(cache, 'a', 's1', 's2', 'other')).toEqual(['a', 'other']);
  });

  it('username-changed updates the cached principals; other events change nothing', () => {
    const cache = cacheWith({ a: api(T1) });
    cache.apply(invalidationOf(ev('user.username-changed', { userId: U, username: 'bob', previousUsername: 'ann' }))!, 5);
    expect(cache.get('a', 1)?.username).toBe('bob');
    expect(cache.profile('a')).toBeUndefined(); // no profile is made up
    expect(invalidationOf(ev('user.password-set', { userId: U, temporary: false, reason: 'changed', organizationId: null }))).toBeUndefined();
    // an event whose data breaks its schema never gets here: the consumer dead-letters it (consumer.int-spec.ts)
  });

  const profile = { id: U, username: 'ann', name: 'Ann', email: 'ann@example.com', createdAt: new Date(0).toISOString() };

  it('the profile kept with a principal follows username, screen name and email changes, for every token of the user', () => {
    const cache = cacheWith({ a: api(T1), s: session(), other: api(T1, V) });
    cache.putProfile('a', profile, 0);
    cache.putProfile('s', profile, 0);
    cache.putProfile('other', profile, 0); // another user's entry: not theirs, not kept
    expect(cache.profile('other')).toBeUndefined();
    cache.apply(invalidationOf(ev('user.username-changed', { userId: U, username: 'bob', previousUsername: 'ann' }))!, 5);
    cache.apply(invalidationOf(ev('user.screen-name-changed', { userId: U, name: 'Bob', previousName: 'Ann' }))!, 6);
    cache.apply(invalidationOf(ev('user.email-changed', { userId: U, email: 'bob@example.com', previousEmail: 'ann@example.com' }))!, 7);
    for (const key of ['a', 's']) expect(cache.profile(key)).toEqual({ ...profile, username: 'bob', name: 'Bob', email: 'bob@example.com' });
    expect(cache.get('a', 1)?.username).toBe('bob');
  });

  it('a profile read before a change of the user is not kept after it; a re-verified entry starts without one', () => {
    const cache = cacheWith({ a: api(T1) });
    cache.apply(invalidationOf(ev('user.screen-name-changed', { userId: U, name: 'Bob', previousName: 'Ann' }))!, 7);
    cache.putProfile('a', profile, 6);
    expect(cache.profile('a')).toBeUndefined();
    cache.putProfile('a', { ...profile, name: 'Bob' }, 7);
    expect(cache.profile('a')?.name).toBe('Bob');
    cache.put('a', api(T1), 7, 0);
    expect(cache.profile('a')).toBeUndefined();
  });

  it('an answer of identity sent before an invalidation of the user is not cached after it', () => {
    const cache = new TokenCache();
    cache.apply(invalidationOf(ev('user.api-token-reset', { userId: U, tokenId: T2 }))!, 7);
    cache.put('late', api(T1), 6, 0);
    expect(cache.get('late', 1)).toBeUndefined();
    cache.put('fresh', api(T2), 7, 0);
    expect(cache.get('fresh', 1)?.tokenId).toBe(T2);
  });

  it('an entry is re-verified after a minute and never used past its expiry', () => {
    expect(usable({ user: api('t'), verifiedAt: 0 }, REVERIFY_AFTER_MS - 1)).toBe(true);
    expect(usable({ user: api('t'), verifiedAt: 0 }, REVERIFY_AFTER_MS)).toBe(false);
    expect(usable({ user: session(), verifiedAt: 9_990_000 }, 10_000_000)).toBe(false);
    const cache = cacheWith({ a: api('t') });
    expect(cache.get('a', REVERIFY_AFTER_MS)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded: the least recently used entry goes first', () => {
    const cache = cacheWith({ a: api('1'), b: api('2') }, 2);
    cache.get('a', 1);
    cache.put('c', api('3'), 0, 0);
    expect(keys(cache, 'a', 'b', 'c')).toEqual(['a', 'c']);
  });

  it('keys are a hash of the token, never the token', () => {
    expect(tokenKey('ppt_secret')).not.toContain('secret');
    expect(tokenKey('ppt_secret')).toBe(tokenKey('ppt_secret'));
    // SHA-256 of the token's UTF-8, in base64
    expect(tokenKey('ppt_secret')).toBe('ecGQ5JrKIc91lnpAHdH6GuVlbP4LuvEg4HUBTIxTu3M=');
    expect(tokenKey('pp€')).toBe(createHash('sha256').update(Buffer.from('pp€', 'utf8')).digest('base64'));
  });
});
