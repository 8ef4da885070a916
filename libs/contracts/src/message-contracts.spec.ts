import * as contracts from './index';
import {
  AccessRequests,
  AssignRoleRequest,
  checkMessage,
  CreateAccountsRequest,
  CreateGroupRequest,
  CreateRoleRequest,
  MESSAGE_CONTRACTS,
  messageSchemaOf,
  MembershipSubjects,
  VerifyTokenRequest,
} from './index';

const UPPER = 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D';
const refusal = (schema: Parameters<typeof checkMessage>[0], body: unknown) => {
  const r = checkMessage(schema, body);
  return r.ok ? undefined : r.refusal;
};

describe('message contracts: every NATS request body has one schema, checked at the edge', () => {
  it('every subject of every *Subjects table of libs/contracts has a schema (a new message cannot skip the edge)', () => {
    const tables = Object.entries(contracts).filter(([name]) => name.endsWith('Subjects'));
    expect(tables.length).toBeGreaterThanOrEqual(5);
    for (const [name, table] of tables) {
      const contract = MESSAGE_CONTRACTS.find((c) => c.subjects === table);
      expect([name, contract !== undefined]).toEqual([name, true]);
      for (const [key, subjectOf] of Object.entries(table as Record<string, () => string>)) {
        expect([name, key, typeof contract!.requests[key]]).toEqual([name, key, 'object']);
        expect(messageSchemaOf(subjectOf())).toBe(contract!.requests[key]);
        expect(() => checkMessage(contract!.requests[key], {})).not.toThrow(); // it compiles
      }
    }
    expect(messageSchemaOf('qry.nobody.nothing')).toBeUndefined();
  });

  it('normalizes at the edge: UUIDs lower-cased, names and descriptions as fields.ts normalizes them; other properties left alone', () => {
    const body = { organizationId: UPPER, scope: 'project', name: '  Release managers ', description: ' ships ', permissions: ['project.view'], extra: 1 };
    expect(checkMessage(CreateRoleRequest, body)).toEqual({
      ok: true,
      body: { organizationId: UPPER.toLowerCase(), scope: 'project', name: 'Release managers', description: 'ships', permissions: ['project.view'], extra: 1 },
    });
    const accounts = checkMessage(CreateAccountsRequest, { organizationId: 'o', accounts: [{ email: ' Ada@Example.com ' }] });
    expect(accounts.ok && accounts.body.accounts[0].email).toBe('Ada@Example.com');
  });

  it('refuses a body that breaks its schema with the code and message the hand checks had, naming the field', () => {
    expect(refusal(CreateRoleRequest, undefined)).toEqual({ code: 'VALIDATION_FAILED', message: 'organizationId must be a UUID' });
    expect(refusal(CreateRoleRequest, { organizationId: UPPER, scope: 'planet', name: 'x', permissions: [] })).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'scope must be organization or project',
    });
    expect(refusal(CreateRoleRequest, { organizationId: UPPER, scope: 'project', name: 'a\u202Eb', permissions: [] })?.message).toBe(
      'name contains a bidirectional control character (U+202E)',
    );
    expect(refusal(CreateRoleRequest, { organizationId: UPPER, scope: 'project', name: 'x', permissions: ['a', 42] })?.message).toBe(
      'permissions must be a list of permission names',
    );
    expect(refusal(AccessRequests.changeRole, { organizationId: UPPER, roleId: 'nope' })?.message).toBe('roleId must be a UUID');
    // membership: a malformed id of what the request acts on is nothing there
    expect(refusal(CreateGroupRequest, { organizationId: 'nope', name: 'g' })).toEqual({ code: 'NOT_FOUND', message: 'not found' });
    expect(refusal(CreateGroupRequest, { organizationId: UPPER, name: 'g', memberIds: ['x'] })?.message).toBe('memberIds must be a list of user ids');
    expect(refusal(AssignRoleRequest, { organizationId: UPPER, subjectId: UPPER, roleId: UPPER, subjectType: 'robot' })?.message).toBe(
      'subjectType must be user or group',
    );
    expect(refusal(AssignRoleRequest, { organizationId: UPPER, subjectId: UPPER, roleId: UPPER, subjectType: 'user', projectId: 'p' })?.message).toBe(
      'projectId must be a UUID',
    );
    expect(refusal(CreateAccountsRequest, { organizationId: 'o', accounts: [{ email: 'a@example.com' }, { name: 'Bo' }] })?.message).toBe(
      'accounts[1].email is required',
    );
    expect(refusal(CreateAccountsRequest, { organizationId: 'o', accounts: [{ email: 'not an address' }] })?.message).toBe(
      'accounts[0].email contains white space',
    );
    expect(refusal(CreateAccountsRequest, { organizationId: 'o', accounts: [] })?.message).toBe('organizationId and 1 to 500 accounts are required');
    // a token is never named, and anything but a plausible one is refused as every unknown token is
    expect(refusal(VerifyTokenRequest, { token: 'short' })).toEqual({ code: 'UNAUTHENTICATED', message: 'missing, unknown, expired or revoked token' });
    expect(
      refusal(messageSchemaOf(MembershipSubjects.createOrganization())!, {
        name: 'Acme',
        slug: 'Not A Slug',
      }),
    ).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'slug must be lowercase letters, digits and "-" (1 to 50)',
    });
  });
});
