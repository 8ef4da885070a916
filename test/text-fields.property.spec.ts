import 'reflect-metadata';
import fc from 'fast-check';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import { validateEvent, type EventDefinition } from '@app/contracts';
import { GroupCreated, GroupDetailsChanged, OrganizationCreated, ProjectCreated } from '@app/contracts';
import { RoleChanged, RoleCreated } from '@app/contracts';
import { UserCreated, UserEmailChanged, UserScreenNameChanged, UserUsernameChanged } from '@app/contracts';
import { ChangeEmailDto, UpdateProfileDto } from '../apps/gateway/src/me/me.dto';
import { CreateOrganizationDto, NewAccountDto } from '../apps/gateway/src/organizations/organizations.dto';
import { CreateGroupDto, UpdateGroupDto } from '../apps/gateway/src/groups/groups.dto';
import { ChangeRoleDto, CreateRoleDto } from '../apps/gateway/src/roles/roles.dto';
import { CreateProjectDto } from '../apps/gateway/src/projects/projects.dto';

/**
 * Item 4 of "Security and reliability": what the gateway accepts, the event contract accepts, and the other way
 * round. For every text field of every request body that ends up in an event, generated strings go through the
 * gateway's own DTO (class-transformer, then class-validator, as the validation pipe does) and, the
 * (normalized) value it accepts, through the real event schema (`validateEvent`, ajv) in each event field
 * it is written to.
 */

const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const ORG = U(1);

function eventWith(def: EventDefinition, data: Record<string, unknown>): unknown {
  return {
    id: U(99),
    type: def.type,
    version: def.version,
    streamId: 's-1',
    streamVersion: 1,
    service: def.service,
    occurredAt: '2026-01-01T00:00:00.000Z',
    ...(def.organizationScoped ? { organizationId: ORG } : {}),
    data,
    metadata: { actor: { id: U(2) }, correlationId: 'c', causationId: 'c', medium: 'api' },
  };
}

/** The gateway's verdict on a body: the transformed value of `field`, or undefined when refused. */
function gatewayAccepts<T extends object>(dto: ClassConstructor<T>, body: Record<string, unknown>, field: string): string | undefined {
  const instance = plainToInstance(dto, body);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  return errors.length ? undefined : ((instance as Record<string, unknown>)[field] as string);
}

interface Case {
  name: string;
  /** the body field checked, and the DTO and body around it */
  accept: (value: string) => string | undefined;
  /** every event (and field of it) the accepted value is written to */
  events: Array<(value: string) => unknown>;
  kind: 'email' | 'username' | 'name' | 'description';
}

const emailEvents = [
  (v: string) => eventWith(UserEmailChanged, { userId: U(3), email: v, previousEmail: 'a@example.com' }),
  (v: string) => eventWith(UserEmailChanged, { userId: U(3), email: 'a@example.com', previousEmail: v }),
  (v: string) =>
    eventWith(UserCreated, {
      userId: U(3),
      username: 'ab',
      email: v,
      name: 'n',
      createdBy: 'organization',
      managedByOrganizationId: ORG,
      temporaryPassword: true,
    }),
];
const userCreated = (patch: Record<string, unknown>) =>
  eventWith(UserCreated, {
    userId: U(3),
    username: 'ab',
    email: 'a@example.com',
    name: 'n',
    createdBy: 'organization',
    managedByOrganizationId: ORG,
    temporaryPassword: true,
    ...patch,
  });
const groupName = [
  (v: string) => eventWith(GroupCreated, { organizationId: ORG, groupId: U(4), name: v, description: '', memberIds: [], roleId: U(5) }),
  (v: string) => eventWith(GroupDetailsChanged, { organizationId: ORG, groupId: U(4), name: v, description: '', previousName: v }),
];
const roleName = [
  (v: string) => eventWith(RoleCreated, { organizationId: ORG, roleId: U(5), name: v, description: '', scope: 'project', permissions: [] }),
  (v: string) => eventWith(RoleChanged, { organizationId: ORG, roleId: U(5), name: v, description: '', scope: 'project', permissions: [], previousName: v }),
];
const groupDescription = [
  (v: string) => eventWith(GroupCreated, { organizationId: ORG, groupId: U(4), name: 'g', description: v, memberIds: [], roleId: U(5) }),
];
const roleDescription = [
  (v: string) => eventWith(RoleCreated, { organizationId: ORG, roleId: U(5), name: 'r', description: v, scope: 'project', permissions: [] }),
];

const CASES: Case[] = [
  { name: 'PATCH /me/email email', kind: 'email', accept: (v) => gatewayAccepts(ChangeEmailDto, { email: v }, 'email'), events: emailEvents },
  { name: 'POST …/accounts email', kind: 'email', accept: (v) => gatewayAccepts(NewAccountDto, { email: v }, 'email'), events: emailEvents },
  {
    name: 'POST …/accounts username',
    kind: 'username',
    accept: (v) => gatewayAccepts(NewAccountDto, { email: 'a@example.com', username: v }, 'username'),
    events: [(v) => userCreated({ username: v })],
  },
  {
    name: 'POST …/accounts name',
    kind: 'name',
    accept: (v) => gatewayAccepts(NewAccountDto, { email: 'a@example.com', name: v }, 'name'),
    events: [(v) => userCreated({ name: v })],
  },
  {
    name: 'PATCH /me username',
    kind: 'username',
    accept: (v) => gatewayAccepts(UpdateProfileDto, { username: v }, 'username'),
    events: [(v) => eventWith(UserUsernameChanged, { userId: U(3), username: v, previousUsername: v })],
  },
  {
    name: 'PATCH /me name',
    kind: 'name',
    accept: (v) => gatewayAccepts(UpdateProfileDto, { name: v }, 'name'),
    events: [(v) => eventWith(UserScreenNameChanged, { userId: U(3), name: v, previousName: v })],
  },
  {
    name: 'POST /organizations name',
    kind: 'name',
    accept: (v) => gatewayAccepts(CreateOrganizationDto, { name: v }, 'name'),
    events: [(v) => eventWith(OrganizationCreated, { organizationId: ORG, name: v, slug: 'x', ownerId: U(3) })],
  },
  { name: 'POST …/groups name', kind: 'name', accept: (v) => gatewayAccepts(CreateGroupDto, { name: v }, 'name'), events: groupName },
  {
    name: 'POST …/groups description',
    kind: 'description',
    accept: (v) => gatewayAccepts(CreateGroupDto, { name: 'g', description: v }, 'description'),
    events: groupDescription,
  },
  { name: 'PATCH …/groups name', kind: 'name', accept: (v) => gatewayAccepts(UpdateGroupDto, { name: v }, 'name'), events: groupName },
  {
    name: 'PATCH …/groups description',
    kind: 'description',
    accept: (v) => gatewayAccepts(UpdateGroupDto, { description: v }, 'description'),
    events: groupDescription,
  },
  {
    name: 'POST …/roles name',
    kind: 'name',
    accept: (v) => gatewayAccepts(CreateRoleDto, { name: v, description: '', scope: 'project', permissions: [] }, 'name'),
    events: roleName,
  },
  {
    name: 'POST …/roles description',
    kind: 'description',
    accept: (v) => gatewayAccepts(CreateRoleDto, { name: 'r', description: v, scope: 'project', permissions: [] }, 'description'),
    events: roleDescription,
  },
  { name: 'PATCH …/roles name', kind: 'name', accept: (v) => gatewayAccepts(ChangeRoleDto, { name: v }, 'name'), events: roleName },
  {
    name: 'PATCH …/roles description',
    kind: 'description',
    accept: (v) => gatewayAccepts(ChangeRoleDto, { description: v }, 'description'),
    events: roleDescription,
  },
  {
    name: 'POST …/projects name',
    kind: 'name',
    accept: (v) => gatewayAccepts(CreateProjectDto, { name: v }, 'name'),
    events: [(v) => eventWith(ProjectCreated, { organizationId: ORG, projectId: U(6), name: v, ownerId: U(3) })],
  },
];

/** Characters that have caused trouble, and ordinary ones, so that generated strings are often valid too. */
const TRICKY = [
  '\u200B',
  '\u200C',
  '\u200D',
  '\u200E',
  '\u200F',
  '\u2060',
  '\u2063',
  '\uFEFF',
  '\u00AD',
  '\u061C', // invisible, bidi marks
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069', // bidi embeddings, overrides, isolates
  '\u0000',
  '\u0001',
  '\u001B',
  '\u007F',
  '\u0085',
  '\t',
  '\n',
  '\r',
  '\u2028',
  '\u2029', // controls and line breaks
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF', // lone surrogates
  'ｒ',
  'Ａ',
  '＠',
  '．',
  'ﬁ',
  '²', // compatibility characters (fullwidth, ligature, superscript)
  '\u0301',
  '\u0308',
  'e\u0301', // combining marks (not NFC)
  ' ',
  '\u00A0',
  '\u3000', // spaces
];
const ORDINARY = ['a', 'b', 'Z', '0', '9', '.', '-', '_', '+', '@', 'é', 'ß', 'ø', 'ж', '山', 'ع', 'א', '👩', '🏳️', '❤️'];

const char = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ORDINARY) },
  { weight: 2, arbitrary: fc.constantFrom(...TRICKY) },
  // any code point, lone surrogates included (String.fromCodePoint accepts them)
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)) },
);
const text = (max: number, of = char) => fc.array(of, { maxLength: max }).map((cs) => cs.join(''));
/** mostly letters, so that about half of the generated addresses are valid */
const emailChar = fc.oneof({ weight: 30, arbitrary: fc.constantFrom('a', 'b', 'x', '0', 'é', 'ж', '山') }, { weight: 1, arbitrary: char });
const around = (core: fc.Arbitrary<string>) =>
  fc.tuple(fc.constantFrom('', ' ', '\u00A0', '\n'), core, fc.constantFrom('', ' ', '\t')).map(([a, b, c]) => a + b + c);

const GENERATORS: Record<Case['kind'], fc.Arbitrary<string>> = {
  email: around(
    fc.tuple(text(8, emailChar), text(6, emailChar), text(4, emailChar)).map(([local, host, tld]) => `${local || 'x'}@${host || 'h'}.${tld || 'io'}`),
  ),
  username: fc.oneof(text(10), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{1,40}$/)),
  name: around(text(12)),
  description: around(text(20)),
};

describe('text fields: the gateway and the event contract agree (fast-check)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: every value the gateway accepts validates against its event schemas', (_, c) => {
    let accepted = 0;
    fc.assert(
      fc.property(GENERATORS[c.kind], (raw) => {
        const value = c.accept(raw);
        if (value === undefined) return;
        accepted++;
        for (const make of c.events) expect(validateEvent(make(value))).toEqual([]);
      }),
      { numRuns: 400 },
    );
    // the property is not vacuous: a good share of the generated values are accepted
    expect(accepted).toBeGreaterThan(20);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: every value its event schemas accept, the gateway accepts unchanged', (_, c) => {
    fc.assert(
      fc.property(GENERATORS[c.kind], (raw) => {
        if (c.events.some((make) => validateEvent(make(raw)).length > 0)) return;
        expect(c.accept(raw)).toBe(raw);
      }),
      { numRuns: 400 },
    );
  });
});

describe('text fields: the cases of the issue', () => {
  const refusedEmails = [
    'ro\u200bot@example.com', // zero-width space
    '\u200Froot@example.com', // right-to-left mark
    'ｒｏｏｔ@example.com', // fullwidth letters
    'root@exam\u0000ple.com', // NUL
    'root\r\n@example.com', // CR LF
    'root\u202E@example.com', // right-to-left override
    'ro\uD800ot@example.com', // lone surrogate
  ];
  it.each(refusedEmails.map((e) => [JSON.stringify(e), e]))('the gateway refuses the email %s', (_, email) => {
    expect(gatewayAccepts(ChangeEmailDto, { email }, 'email')).toBeUndefined();
  });

  it('an accented local part is accepted, NFC-normalized and trimmed, and valid in the event', () => {
    const value = gatewayAccepts(ChangeEmailDto, { email: ' jose\u0301@example.com ' }, 'email');
    expect(value).toBe('josé@example.com');
    expect(validateEvent(emailEvents[0](value!))).toEqual([]);
  });

  const refusedNames = ['a\u0000b', 'a\r\nb', 'a\tb', 'x\u202Ey', 'x\u2066y', '\uDC00x', 'zero\u200Bwidth'];
  it.each(refusedNames.map((n) => [JSON.stringify(n), n]))('the gateway refuses the name %s, and so does the event schema', (_, name) => {
    expect(gatewayAccepts(CreateGroupDto, { name }, 'name')).toBeUndefined();
    expect(validateEvent(groupName[0](name))).not.toEqual([]);
  });

  it('a description may hold line breaks but not other controls', () => {
    expect(gatewayAccepts(CreateGroupDto, { name: 'g', description: 'line 1\r\nline 2\tend' }, 'description')).toBe('line 1\r\nline 2\tend');
    expect(gatewayAccepts(CreateGroupDto, { name: 'g', description: 'bell\u0007' }, 'description')).toBeUndefined();
  });
});
