import { resolveOrganization, SlugCache } from './organization-slugs';

const ID = '11111111-1111-4111-8111-111111111111';

describe('organization slugs', () => {
  it('a UUID is an id, lowercased, without a look-up', async () => {
    const mine = jest.fn();
    await expect(resolveOrganization(ID.toUpperCase(), new SlugCache(), mine)).resolves.toBe(ID);
    expect(mine).not.toHaveBeenCalled();
  });

  it('a slug (any case) is looked up once in the caller’s organizations, then cached; a non-slug names nothing', async () => {
    const cache = new SlugCache();
    const mine = jest.fn(async () => [{ id: ID, slug: 'acme' }]);
    await expect(resolveOrganization('Acme', cache, mine)).resolves.toBe(ID);
    await expect(resolveOrganization('acme', cache, mine)).resolves.toBe(ID);
    expect(mine).toHaveBeenCalledTimes(1);
    await expect(resolveOrganization('other', cache, mine)).resolves.toBeUndefined();
    await expect(resolveOrganization('not a slug', cache, mine)).resolves.toBeUndefined();
    await expect(resolveOrganization(undefined, cache, mine)).resolves.toBeUndefined();
    expect(mine).toHaveBeenCalledTimes(2);
  });

  it('keeps at most `max` entries, forgetting the oldest', () => {
    const cache = new SlugCache(2);
    cache.remember('a', '1');
    cache.remember('b', '2');
    cache.remember('c', '3');
    expect([cache.size, cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([2, undefined, '2', '3']);
  });
});
