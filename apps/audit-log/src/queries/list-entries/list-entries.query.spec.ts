import { checkMessage, ListEntriesRequest } from '@app/contracts';
import { decodeCursor, encodeCursor, pageFilter, pageLimit } from './list-entries.query';

const refusal = (body: unknown) => {
  const r = checkMessage(ListEntriesRequest, body);
  return r.ok ? undefined : r.refusal;
};

const KEY = '2026-03-01T10:00:00.000Z|000000000042|0';

describe('audit list query', () => {
  it('round-trips an opaque cursor and refuses one it did not make', () => {
    expect(decodeCursor(encodeCursor(KEY))).toBe(KEY);
    for (const bad of ['', 'abc', encodeCursor('2026-03-01|x'), encodeCursor(`${KEY}|extra`)])
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('builds one range on the keyset from from/to and the cursor (the tighter upper bound wins)', () => {
    expect(pageFilter({ organizationId: 'o', from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', cursor: encodeCursor(KEY) })).toEqual({
      organizationId: 'o',
      sortKey: { $gte: '2026-03-01T00:00:00.000Z', $lt: KEY },
    });
    expect(pageFilter({ organizationId: 'o', to: '2026-02-01T00:00:00Z', cursor: encodeCursor(KEY) }).sortKey).toEqual({ $lt: '2026-02-01T00:00:00.000Z|~' });
  });

  it('filters by actor, resource and operation, and refuses unknown values', () => {
    expect(pageFilter({ organizationId: 'o', actorId: 'u', resource: 'Group', operation: 'Removed' })).toEqual({
      organizationId: 'o',
      actorId: 'u',
      resource: 'Group',
      operation: 'Removed',
    });
    // unknown values: refused by the message contract at the service's edge
    expect(refusal({ organizationId: 'o', resource: 'Planet' })).toEqual({ code: 'VALIDATION_FAILED', message: 'unknown resource' });
    expect(refusal({ organizationId: 'o', operation: 'Exploded' })).toEqual({ code: 'VALIDATION_FAILED', message: 'unknown operation' });
    expect(refusal({ organizationId: 'o', resource: 'Group', operation: 'Removed' })).toBeUndefined();
    expect(() => pageFilter({ organizationId: 'o', from: 'yesterday' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('limits pages to 1..500, 50 by default', () => {
    expect(pageLimit(undefined)).toBe(50);
    expect(pageLimit(500)).toBe(500);
    expect(refusal({ limit: 500 })).toBeUndefined();
    for (const bad of [0, 501, 2.5, 'x']) expect(refusal({ limit: bad })).toEqual({ code: 'VALIDATION_FAILED', message: 'limit must be 1 to 500' });
  });
});
