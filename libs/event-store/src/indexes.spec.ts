import type { IndexDescription } from 'mongodb';
import { ensureIndexes } from './indexes';

/** The error text is FerretDB v1.24.2's, as CI printed it during an audit rebuild. */
const leftBehind = Object.assign(
  new Error('[registry.go:498 metadata.(*Registry).indexesCreate] SQL logic error: index audit_entries_c9877803_time already exists (1)'),
  { code: 1, codeName: 'InternalError' },
);

describe('ensureIndexes', () => {
  const specs: IndexDescription[] = [
    { key: { a: 1 }, name: 'a' },
    { key: { b: 1 }, name: 'b' },
  ];
  const collection = (fail: (name: string) => Error | undefined) => {
    const asked: string[] = [];
    return {
      asked,
      createIndexes: async ([spec]: IndexDescription[]) => {
        asked.push(spec.name!);
        const err = fail(spec.name!);
        if (err) throw err;
        return [spec.name!];
      },
    };
  };

  it('creates each index with a command of its own', async () => {
    const c = collection(() => undefined);
    await ensureIndexes(c, specs);
    expect(c.asked).toEqual(['a', 'b']);
  });

  it('counts an index FerretDB left behind as created, and goes on with the next', async () => {
    const c = collection((name) => (name === 'a' ? leftBehind : undefined));
    await ensureIndexes(c, specs);
    expect(c.asked).toEqual(['a', 'b']);
  });

  it('throws any other error', async () => {
    const conflict = Object.assign(new Error('An existing index has the same name as the requested index'), { code: 86 });
    await expect(
      ensureIndexes(
        collection(() => conflict),
        specs,
      ),
    ).rejects.toThrow('same name');
  });
});
