import { randomUUID } from 'node:crypto';
import { CallerWrites, tokensOfHeader } from './consistency';

const org = randomUUID();
const token = (version: number, id = org) => `organization-${id}@${version}`;

describe('consistency tokens at the gateway', () => {
  it('the Consistency-Token header: none, one or several tokens; anything else is a problem (400 before any wait)', () => {
    expect(tokensOfHeader({})).toEqual({ tokens: [] });
    expect(tokensOfHeader({ 'consistency-token': token(3) })).toEqual({ tokens: [token(3)] });
    expect(tokensOfHeader({ 'consistency-token': `${token(3)}, access-${org}@1` })).toEqual({ tokens: [token(3), `access-${org}@1`] });
    for (const bad of [
      '',
      'x',
      `${token(0)}`,
      `organization-${org}@-1`,
      `organization-${org}`,
      `organization-nope@3`,
      `${token(3)};drop`,
      `ORGANIZATION-${org}@3`,
      `${token(1)},`.repeat(17),
    ])
      expect(tokensOfHeader({ 'consistency-token': bad })).toHaveProperty('problem');
  });

  it('remembers each caller’s latest write per stream for a while, and names them with what the request sent', () => {
    let now = 0;
    const writes = new CallerWrites(10_000, () => now);
    writes.remember('alice', token(5));
    writes.remember('alice', token(4)); // older: the latest stays
    writes.remember('bob', token(9));
    expect(writes.after('alice')).toEqual([token(5)]);
    expect(writes.after('alice', [token(7)])).toEqual([token(7)]);
    const other = randomUUID();
    expect(writes.after(undefined, [token(2, other)])).toEqual([token(2, other)]);
    expect(writes.after('carol')).toBeUndefined();
    now = 10_001;
    expect(writes.after('alice')).toBeUndefined();
    expect(writes.after('bob')).toBeUndefined();
  });
});
