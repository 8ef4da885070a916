import { decodePeopleSnapshot, encodePeopleSnapshot } from './people.snapshot';
import { SNAPSHOT_FORMAT, type PeopleSnapshot } from './people.view';

describe('people snapshot encoding', () => {
  it('gives back what it was given, users and people over several lines, organizations of any size', async () => {
    const people = (n: number, org: string): PeopleSnapshot['orgs'][number]['people'] =>
      Array.from({ length: n }, (_, i) => [i + 1, i % 10 === 0 ? 'group' : 'user', `${org}-${i}`, `role-${i % 3}`, i % 7 === 0 ? [`${org}-0`] : []]);
    const snapshot: PeopleSnapshot = {
      format: SNAPSHOT_FORMAT,
      sequence: 123_456,
      users: Array.from({ length: 25_001 }, (_, i) => [`u${i}`, `user${i}`, i % 2 ? `Name ${i}` : null, i % 3 ? null : `u${i}@example.com`]),
      roleNames: [['r1', 'Deployers']],
      orgs: [
        {
          id: 'big',
          name: 'Big',
          slug: 'big',
          people: people(20_001, 'big'),
          groups: [['big-0', 'G', '', 'role-1', 1, ['big-7']]],
          projects: [['p', 'P', 'big-1', 9]],
        },
        { id: 'empty', name: 'Empty', slug: 'empty', people: [], groups: [], projects: [] },
        { id: 'small', name: 'Small', slug: 'small', people: people(3, 'small'), groups: [], projects: [] },
      ],
    };
    expect(await decodePeopleSnapshot(await encodePeopleSnapshot(snapshot))).toEqual(snapshot);
  });

  it('refuses another format', async () => {
    await expect(decodePeopleSnapshot(await encodePeopleSnapshot({ format: 2 as 1, sequence: 1, users: [], roleNames: [], orgs: [] }))).rejects.toThrow(
      'unknown people snapshot format 2',
    );
  });
});
