import type { CatalogueEvent } from '@app/contracts';
import { PeoplePages } from './people-pages';

const event = (service: string, type: string, data: Record<string, unknown>) => ({ service, type, version: 1, data }) as unknown as CatalogueEvent;
const memberAdded = (organizationId: string) => event('membership', 'organization.member-added', { organizationId, userId: 'u' });
const page = (text: string) => Buffer.from(text);

describe('PeoplePages (people pages kept at the gateway)', () => {
  it('answers a kept page until an event after its read index may have changed its organization', () => {
    const pages = new PeoplePages();
    pages.ingest(memberAdded('a'), 5);
    pages.put('k', 'a', page('p1'), 10);
    expect(pages.get('k')?.toString()).toBe('p1');
    // another organization's event, and one that shows on no page: still good
    pages.ingest(memberAdded('b'), 11);
    pages.ingest(event('identity', 'user.api-token-reset', { userId: 'u' }), 12);
    expect(pages.get('k')?.toString()).toBe('p1');
    // its own organization's: dropped
    pages.ingest(memberAdded('a'), 13);
    expect(pages.get('k')).toBeUndefined();
    expect(pages.get('k')).toBeUndefined();
  });

  it('drops every page on a profile change, a role name or an event naming no organization', () => {
    for (const change of [
      event('identity', 'user.email-changed', { userId: 'u', email: 'x@y.z' }),
      event('authorization', 'role.changed', { roleId: 'r', name: 'n' }),
    ]) {
      const pages = new PeoplePages();
      pages.put('k1', 'a', page('p1'), 10);
      pages.put('k2', 'b', page('p2'), 10);
      pages.ingest(change, 11);
      expect([pages.get('k1'), pages.get('k2')]).toEqual([undefined, undefined]);
    }
  });

  it('drops every page, and does not throw, on an event it cannot read', () => {
    const pages = new PeoplePages();
    pages.put('k', 'a', page('p1'), 10);
    expect(() => pages.ingest({ service: 'membership', type: 'organization.member-added', data: null } as unknown as CatalogueEvent, 11)).not.toThrow();
    expect(pages.get('k')).toBeUndefined();
  });

  it('does not answer a page whose request read the stream before a change the consumer applied meanwhile', () => {
    const pages = new PeoplePages();
    pages.ingest(memberAdded('a'), 12); // applied while membership answered a request of read index 10
    pages.put('k', 'a', page('p1'), 10);
    expect(pages.get('k')).toBeUndefined();
    pages.put('k', 'a', page('p2'), 12);
    expect(pages.get('k')?.toString()).toBe('p2');
  });

  it('keeps at most maxBytes, the oldest pages going first, and no page larger than a quarter of it', () => {
    const pages = new PeoplePages(100);
    pages.put('k1', 'a', page('x'.repeat(20)), 1);
    pages.put('k2', 'a', page('y'.repeat(20)), 1);
    pages.put('big', 'a', page('z'.repeat(26)), 1);
    expect(pages.get('big')).toBeUndefined();
    for (let i = 3; i <= 6; i++) pages.put(`k${i}`, 'a', page('w'.repeat(20)), 1);
    expect(pages.get('k1')).toBeUndefined();
    expect(['k2', 'k3', 'k4', 'k5', 'k6'].every((k) => pages.get(k))).toBe(true);
    pages.put('k7', 'a', page('w'.repeat(20)), 1);
    expect(pages.get('k2')).toBeUndefined();
    // the same key again replaces the page (and its bytes)
    pages.put('k6', 'a', page('v'.repeat(20)), 2);
    expect(pages.get('k6')?.toString()).toBe('v'.repeat(20));
    expect(pages.get('k3')).toBeDefined();
  });
});
