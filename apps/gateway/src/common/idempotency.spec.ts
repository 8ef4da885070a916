import { LEASE_MS, verdict, type IdempotencyRecord } from './idempotency';

describe('verdict: what a request does with the record under its Idempotency-Key', () => {
  const now = 1_000_000;
  const pending = (over: Partial<Extract<IdempotencyRecord, { state: 'pending' }>> = {}): IdempotencyRecord => ({
    state: 'pending',
    fingerprint: 'f',
    startedAt: now - 60_000,
    owner: 'other',
    renewedAt: now,
    ...over,
  });

  it('takes a free key, an OUTCOME_UNKNOWN, and a pending record whose lease lapsed', () => {
    expect(verdict(undefined, 'f', 'me', now)).toBe('take');
    expect(verdict({ state: 'unknown', fingerprint: 'f', startedAt: now }, 'f', 'me', now)).toBe('take');
    expect(verdict(pending({ renewedAt: now - LEASE_MS - 1 }), 'f', 'me', now)).toBe('take');
  });

  it('is busy while the holder renews its lease, however long the request has been running', () => {
    expect(verdict(pending({ renewedAt: now - LEASE_MS }), 'f', 'me', now)).toBe('busy');
    expect(verdict(pending({ startedAt: now - 600_000, renewedAt: now - 500 }), 'f', 'me', now)).toBe('busy');
  });

  it('continues its own claim (written although the broker’s answer was lost): a new key is never refused', () => {
    expect(verdict(pending({ owner: 'me' }), 'f', 'me', now)).toBe('continue');
  });

  it('replays a finished request and refuses the key for another request', () => {
    const done: IdempotencyRecord = { state: 'done', fingerprint: 'f', startedAt: now, status: 201, iv: '', tag: '', body: '' };
    expect(verdict(done, 'f', 'me', now)).toBe('replay');
    expect(verdict(done, 'g', 'me', now)).toBe('mismatch');
    expect(verdict(pending({ owner: 'me' }), 'g', 'me', now)).toBe('mismatch');
    expect(verdict({ state: 'unknown', fingerprint: 'f', startedAt: now }, 'g', 'me', now)).toBe('mismatch');
  });
});
