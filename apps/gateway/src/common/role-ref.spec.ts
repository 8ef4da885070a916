import { builtInRoleId } from '@app/contracts';
import { BUILT_IN_ROLE_NAMES, roleIdOf } from './role-ref';

const ORG = '11111111-1111-4111-8111-111111111111';

describe('role references', () => {
  it('names the built-in roles once each', () => expect(BUILT_IN_ROLE_NAMES).toEqual(['Owner', 'Admin', 'Member', 'Contributor', 'Reader']));

  it('resolves a name to the built-in role of the scope where it is used', () => {
    expect(roleIdOf(ORG, 'Owner', 'organization')).toBe(builtInRoleId(ORG, 'owner'));
    expect(roleIdOf(ORG, 'Admin', 'organization')).toBe(builtInRoleId(ORG, 'admin'));
    expect(roleIdOf(ORG, 'Member', 'organization')).toBe(builtInRoleId(ORG, 'member'));
    expect(roleIdOf(ORG, 'Admin', 'project')).toBe(builtInRoleId(ORG, 'project-admin'));
    expect(roleIdOf(ORG, 'Contributor', 'project')).toBe(builtInRoleId(ORG, 'project-contributor'));
    expect(roleIdOf(ORG, 'Reader', 'project')).toBe(builtInRoleId(ORG, 'project-reader'));
  });

  it('a name of the other scope only gives that role (the service answers ROLE_SCOPE_MISMATCH); an id is kept, lowercased', () => {
    expect(roleIdOf(ORG, 'Reader', 'organization')).toBe(builtInRoleId(ORG, 'project-reader'));
    expect(roleIdOf(ORG, 'Owner', 'project')).toBe(builtInRoleId(ORG, 'owner'));
    expect(roleIdOf(ORG, 'AAAAAAAA-1111-4111-8111-111111111111', 'project')).toBe('aaaaaaaa-1111-4111-8111-111111111111');
  });
});
