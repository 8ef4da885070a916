import type { components } from './api/schema';

export type Profile = components['schemas']['ProfileResponse'];

/**
 * The signed-in session, in memory only (never localStorage, sessionStorage or a cookie): a reload signs out.
 * `kind` says whether the token is a login session (sign out revokes it) or a pasted personal API token.
 */
export interface Session {
  token: string;
  kind: 'session' | 'api-token';
  user: Profile;
}

let current: Session | undefined;
let expired = false;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export const session = {
  get: () => current,
  /** whether the last session ended because the API refused its token */
  expired: () => expired,
  set(next: Session | undefined) {
    current = next;
    expired = false;
    emit();
  },
  setUser(user: Profile) {
    if (current) current = { ...current, user };
    emit();
  },
  expire() {
    current = undefined;
    expired = true;
    emit();
  },
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
