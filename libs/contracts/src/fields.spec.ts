import { checkText, Description, EntityName, Username } from './fields';

describe('text field messages name the actual problem', () => {
  it.each([
    [Description, undefined, 'description is required'],
    [Description, 12, 'description must be a string, not a number'],
    [Description, null, 'description must be a string, not null'],
    [EntityName, ['x'], 'name must be a string, not an array'],
    [Description, 'x'.repeat(1001), 'description must be at most 1000 characters (it has 1001)'],
    [EntityName, '   ', 'name must not be empty'],
    [Username, 'a', 'username must be at least 2 characters (it has 1)'],
  ])('%#: %s', (kind, value, message) => expect(checkText(kind, value).problem).toBe(message));
});
