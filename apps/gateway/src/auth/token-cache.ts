import { hash } from 'node:crypto';
import {
  isEvent,
  ServiceAccountDeactivated,
  ServiceAccountDeleted,
  ServiceAccountDetailsChanged,
  ServiceAccountTokenRevoked,
  UserApiTokenReset,
  UserApiTokenRevoked,
  UserEmailChanged,
  UserScreenNameChanged,
  UserSessionsEnded,
  UserUsernameChanged,
  type AuthenticatedUser,
  type CatalogueEvent,
  type UserProfile,
} from '@app/contracts';

/** A cached entry older than this is verified by identity again (which also keeps `lastUsedAt` true). */
export const REVERIFY_AFTER_MS = 60_000;
export const DEFAULT_CACHE_ENTRIES = 100_000;

/** What a cached entry knows of its user: the principal, and (once `GET /me` asked identity for it) the profile. */
export interface Principal {
  user: AuthenticatedUser;
  profile?: UserProfile;
}

export interface CachedPrincipal extends Principal {
  verifiedAt: number;
}

/** What an identity event does to the cached principals of its user (docs/identity.md, "Verified tokens at the gateway"). */
export type Invalidation = { userId: string; drop: (p: AuthenticatedUser) => boolean } | { userId: string; update: (p: Principal) => Principal };

/** An update of the cached profile (when there is one) by a change of one of its fields. */
const profileChange =
  (change: Partial<UserProfile>) =>
  ({ user, profile }: Principal): Principal => ({ user, profile: profile && { ...profile, ...change } });

/** The cache key: SHA-256 of the presented token (the token itself is never kept); one-shot, a third of `createHash`'s cost. */
export const tokenKey = (token: string): string => hash('sha256', token, 'base64');
// crypto.hash came with Node 20.12 (package.json `engines`): an older Node stops the gateway here, at start, not at the first request
if (typeof hash !== 'function') throw new Error(`the gateway needs Node.js 20.12 or newer (found ${process.version})`);

/** Pure: the invalidation an identity event (checked against the catalogue by the consumer) means for cached principals, or none. */
export function invalidationOf(event: CatalogueEvent): Invalidation | undefined {
  if (isEvent(event, UserApiTokenReset)) {
    const { userId, tokenId } = event.data;
    return { userId, drop: (p) => p.tokenKind === 'api' && p.tokenId !== tokenId };
  }
  if (isEvent(event, UserApiTokenRevoked)) return { userId: event.data.userId, drop: (p) => p.tokenKind === 'api' };
  if (isEvent(event, UserSessionsEnded)) return { userId: event.data.userId, drop: (p) => p.tokenKind === 'session' };
  // a service account's principals are cached under its id (AuthenticatedUser.userId)
  if (isEvent(event, ServiceAccountTokenRevoked)) {
    const { serviceAccountId, tokenId } = event.data;
    return { userId: serviceAccountId, drop: (p) => p.tokenId === tokenId };
  }
  if (isEvent(event, ServiceAccountDeactivated) || isEvent(event, ServiceAccountDeleted)) return { userId: event.data.serviceAccountId, drop: () => true };
  if (isEvent(event, ServiceAccountDetailsChanged)) {
    const { serviceAccountId, name } = event.data;
    return { userId: serviceAccountId, update: (p) => ({ ...p, user: { ...p.user, username: name } }) };
  }
  if (isEvent(event, UserUsernameChanged)) {
    const { userId, username } = event.data;
    return { userId, update: (p) => profileChange({ username })({ ...p, user: { ...p.user, username } }) };
  }
  if (isEvent(event, UserScreenNameChanged)) return { userId: event.data.userId, update: profileChange({ name: event.data.name }) };
  if (isEvent(event, UserEmailChanged)) return { userId: event.data.userId, update: profileChange({ email: event.data.email }) };
  return undefined;
}

/** Pure: whether a cached principal may answer a request at `now`. */
export const usable = (entry: CachedPrincipal, now: number): boolean =>
  now - entry.verifiedAt < REVERIFY_AFTER_MS && (!entry.user.expiresAt || Date.parse(entry.user.expiresAt) > now);

/**
 * Token key → principal (and profile), least recently used first out, with an index by user for the
 * invalidations. `touched` remembers, per user, the stream sequence of the last event that invalidated or
 * changed something of theirs, so an answer of identity sent before that event is not cached after it (`put`
 * and `putProfile` with the sequence the request waited for).
 */
export class TokenCache {
  private readonly entries = new Map<string, CachedPrincipal>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly touched = new Map<string, number>();

  constructor(private readonly max = DEFAULT_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): AuthenticatedUser | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (!usable(entry, now)) return void this.remove(key);
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.user;
  }

  /** The cached profile of the entry of `key` (asked right after `get`, which checked that the entry is usable). */
  profile(key: string): UserProfile | undefined {
    return this.entries.get(key)?.profile;
  }

  /**
   * Caches identity's answer unless an event at a sequence above `seenSeq` invalidated something of the user's
   * meanwhile. A re-verified entry starts without a profile: `GET /me` asks for it again, at most once a minute.
   */
  put(key: string, user: AuthenticatedUser, seenSeq: number, now: number): void {
    if (this.stale(user.userId, seenSeq)) return;
    this.remove(key);
    this.entries.set(key, { user, verifiedAt: now });
    let keys = this.byUser.get(user.userId);
    if (!keys) this.byUser.set(user.userId, (keys = new Set()));
    keys.add(key);
    if (this.entries.size > this.max) this.remove(this.entries.keys().next().value as string);
  }

  /** Keeps identity's profile of the entry's user on the entry, on the same terms as `put`. */
  putProfile(key: string, profile: UserProfile, seenSeq: number): void {
    const entry = this.entries.get(key);
    if (entry && entry.user.userId === profile.id && !this.stale(profile.id, seenSeq)) entry.profile = profile;
  }

  private stale(userId: string, seenSeq: number): boolean {
    return (this.touched.get(userId) ?? 0) > seenSeq;
  }

  apply(inv: Invalidation, seq: number): void {
    this.touched.set(inv.userId, seq);
    for (const key of [...(this.byUser.get(inv.userId) ?? [])]) {
      const entry = this.entries.get(key)!;
      if ('drop' in inv) {
        if (inv.drop(entry.user)) this.remove(key);
      } else ({ user: entry.user, profile: entry.profile } = inv.update(entry));
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const keys = this.byUser.get(entry.user.userId);
    keys?.delete(key);
    if (keys?.size === 0) this.byUser.delete(entry.user.userId);
  }
}
