import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import * as fc from 'fast-check';
import { PERMISSIONS } from '@app/contracts';
import { strictValidationPipe } from '../gateway.module';
import { CheckPermissionsDto } from '../permissions/permissions.dto';
import { ListPeopleQuery } from '../organizations/organizations.dto';
import { PlainlyValidPipe, plainTestOf } from './plainly-valid';

/** the gateway's pipe as it would be without the tests: Nest's ValidationPipe with the same options */
const rulesOnly = Object.assign(Object.create(ValidationPipe.prototype) as ValidationPipe, strictValidationPipe);

const outcome = (pipe: ValidationPipe, value: unknown, metadata: ArgumentMetadata) =>
  pipe.transform(value, metadata).then(
    (v: unknown) => ({ value: v as object }),
    (err: { getResponse?: () => unknown }) => ({ error: err.getResponse?.() ?? err }),
  );

const uuid = fc.uuid();
const name = fc.constantFrom(...PERMISSIONS.map((p) => p.name));
/** a field's value: valid ones often, and the near misses the rules refuse */
const scalar = fc.oneof(
  uuid,
  uuid.map((u) => u.toUpperCase()),
  uuid.map((u) => `${u}x`),
  uuid.map((u) => u.slice(1)),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.boolean(),
);
const names = fc.oneof(
  fc.array(name, { minLength: 1, maxLength: 4 }),
  fc.array(name, { minLength: 99, maxLength: 102 }),
  fc.array(fc.oneof(name, fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
);
const anyValue = fc.oneof(scalar, names, fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
/** objects of some of the class's fields (each valid or near), now and then with one more field */
const objects = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(
      fc.subarray(Object.keys(fields)),
      fc.record(fields),
      fc.option(fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'extra'), fc.string({ maxLength: 6 })), anyValue), { freq: 4 }),
    )
    .map(([keys, values, extra]) => ({
      ...Object.fromEntries(keys.map((k) => [k, values[k]])),
      ...(extra ? (JSON.parse(JSON.stringify({ [extra[0]]: extra[1] })) as object) : {}),
    }));

const cases: Array<{ dto: new () => object; type: ArgumentMetadata['type']; values: fc.Arbitrary<unknown> }> = [
  {
    dto: CheckPermissionsDto,
    type: 'body',
    values: fc.oneof(
      {
        weight: 4,
        arbitrary: objects({
          userId: fc.oneof({ arbitrary: uuid, weight: 2 }, { arbitrary: scalar, weight: 1 }),
          projectId: fc.oneof({ arbitrary: uuid, weight: 2 }, { arbitrary: scalar, weight: 1 }),
          permissions: fc.oneof(
            { arbitrary: fc.array(name, { minLength: 1, maxLength: 4 }), weight: 3 },
            {
              arbitrary: fc.array(
                fc.oneof(
                  name,
                  name.map((n) => `${n}s`),
                  name.map((n) => n.toUpperCase()),
                ),
                { minLength: 1, maxLength: 3 },
              ),
              weight: 2,
            },
            { arbitrary: names, weight: 1 },
            { arbitrary: scalar, weight: 1 },
          ),
        }),
      },
      { weight: 1, arbitrary: anyValue },
    ),
  },
  {
    dto: ListPeopleQuery,
    type: 'query',
    values: fc.oneof(
      fc.constant({}),
      fc.constant(Object.create(null) as object),
      objects({
        search: fc.string({ maxLength: 3 }),
        limit: fc.constantFrom('1', '50', '0', 'x', ''),
        cursor: scalar,
        type: fc.constantFrom('user', 'x'),
        roleId: scalar,
      }),
    ),
  },
];

describe('PlainlyValidPipe (the gateway pipe: class tests before class-validator)', () => {
  it.each(cases)('answers for $dto.name exactly as the rules alone do: the same instance, or the same 400', async ({ dto, type, values }) => {
    expect(strictValidationPipe).toBeInstanceOf(PlainlyValidPipe);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        // each pipe gets its own copy: the rules change what they are given (gaps closed, prototype keys stripped)
        const copy = () => (typeof value === 'object' && value !== null ? (JSON.parse(JSON.stringify(value)) as unknown) : value);
        const metadata: ArgumentMetadata = { type, metatype: dto };
        const fast = await outcome(strictValidationPipe, copy(), metadata);
        const slow = await outcome(rulesOnly, copy(), metadata);
        expect(fast).toStrictEqual(slow);
        if ('value' in fast) expect(fast.value).toBeInstanceOf(dto);
        if (typeof value === 'object' && value !== null && plainTestOf(dto)!(value as Record<string, unknown>)) accepted++;
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(20); // the tests were exercised, not only the rules
  });

  it('takes the plainly valid values past class-validator, and everything else through it', async () => {
    const rules = jest.spyOn(ValidationPipe.prototype, 'transform');
    const body = { metatype: CheckPermissionsDto, type: 'body' } as const;
    await expect(strictValidationPipe.transform({ permissions: ['organization.people.view'] }, body)).resolves.toBeInstanceOf(CheckPermissionsDto);
    await expect(strictValidationPipe.transform({}, { metatype: ListPeopleQuery, type: 'query' })).resolves.toBeInstanceOf(ListPeopleQuery);
    expect(rules).not.toHaveBeenCalled();
    await expect(strictValidationPipe.transform({ permissions: ['no.such.permission'] }, body)).rejects.toMatchObject({
      response: { code: 'VALIDATION_FAILED', errors: [{ field: 'permissions', message: expect.stringContaining('catalogue') }] },
    });
    await expect(strictValidationPipe.transform({ search: 'ann' }, { metatype: ListPeopleQuery, type: 'query' })).resolves.toMatchObject({ search: 'ann' });
    expect(rules).toHaveBeenCalledTimes(2);
    rules.mockRestore();
  });
});
