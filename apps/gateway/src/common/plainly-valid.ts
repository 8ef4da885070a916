import { ValidationPipe, type ArgumentMetadata, type Type } from '@nestjs/common';

/** A test of a parsed body or query string: true only for values the class's rules accept as they are. */
export type PlainTest = (value: Record<string, unknown>) => boolean;

const tests = new Map<unknown, PlainTest>();

/**
 * Declares a test that answers "valid" for the common, plainly valid values of the class, sooner than
 * class-validator (whose executor is about a fifth of the gateway's CPU on the permission check). It must accept
 * only what the class's rules accept unchanged: known fields only (the pipe forbids others), no conversion left
 * for class-transformer to do. Anything it refuses goes through the rules as before, so every error stays the
 * rules' own. plainly-valid.spec.ts holds each test against the rules on random values.
 */
export function PlainlyValid(test: PlainTest): ClassDecorator {
  return (target) => void tests.set(target, test);
}

/** The test declared for `metatype`, if any. */
export const plainTestOf = (metatype: unknown): PlainTest | undefined => tests.get(metatype);

/** A plain object as the JSON and query-string parsers make them (no array, no class instance): what a test is ever shown. */
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/** Whether `value` has no field but `fields`. */
export const onlyFields = (value: object, fields: readonly string[]): boolean => Object.keys(value).every((k) => fields.includes(k));

/**
 * Nest's ValidationPipe, but a value that its class's `@PlainlyValid` test accepts becomes an instance of the
 * class at once, as class-transformer would make it (the class's fields, then the value's).
 */
export class PlainlyValidPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const test = plainTestOf(metadata.metatype);
    if (test && isPlainObject(value) && test(value)) return Object.assign(new (metadata.metatype as Type)(), value);
    return super.transform(value, metadata);
  }
}
