import type { DomainEvent } from '@app/contracts';
import { asStored } from '@app/testing';
import { noUpcasters, UpcasterRegistry } from './upcasters';

const stored = (type: string, version: number, data: Record<string, unknown>): DomainEvent => asStored([{ type, version, data }])[0];

describe('UpcasterRegistry', () => {
  // v1 { name }  ->  v2 { fullName }  ->  v3 { fullName, displayName }
  const registry = new UpcasterRegistry()
    .register('user.renamed', 1, (e) => ({ ...e, version: 2, data: { fullName: e.data.name } }))
    .register('user.renamed', 2, (e) => ({ ...e, version: 3, data: { ...e.data, displayName: String(e.data.fullName).split(' ')[0] } }));

  it('upcasts v1 through v2 to v3, keeping the envelope', () => {
    const v1 = stored('user.renamed', 1, { name: 'Ada Lovelace' });
    const v3 = registry.upcast(v1);
    expect(v3).toEqual({ ...v1, version: 3, data: { fullName: 'Ada Lovelace', displayName: 'Ada' } });
    expect(v1).toEqual(stored('user.renamed', 1, { name: 'Ada Lovelace' })); // the stored event is not modified
  });

  it('upcasts v2 to v3 and leaves the newest version as it is', () => {
    expect(registry.upcast(stored('user.renamed', 2, { fullName: 'Grace Hopper' })).data).toEqual({
      fullName: 'Grace Hopper',
      displayName: 'Grace',
    });
    const v3 = stored('user.renamed', 3, { fullName: 'Alan Turing', displayName: 'Al' });
    expect(registry.upcast(v3)).toBe(v3);
  });

  it('leaves unknown types and versions untouched', () => {
    const other = stored('user.created', 1, { name: 'x' });
    expect(registry.upcast(other)).toBe(other);
    expect(noUpcasters.upcast(stored('user.renamed', 1, { name: 'x' })).version).toBe(1);
  });

  it('throws when an upcaster does not raise the version', () => {
    const broken = new UpcasterRegistry().register('user.renamed', 1, (e) => ({ ...e, data: { fullName: e.data.name } }));
    expect(() => broken.upcast(stored('user.renamed', 1, { name: 'x' }))).toThrow(/did not raise the version/);
    const backwards = new UpcasterRegistry().register('user.renamed', 2, (e) => ({ ...e, version: 1 }));
    expect(() => backwards.upcast(stored('user.renamed', 2, {}))).toThrow(/user\.renamed\.v2 did not raise the version/);
  });
});
