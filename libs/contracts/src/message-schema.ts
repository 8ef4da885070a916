import {
  Type,
  type Static,
  type TArray,
  type TNull,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
  type TString,
  type TUnion,
  type TUnsafe,
} from '@sinclair/typebox';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ErrorCode } from './errors';
import { TEXT_FIELDS, type TextField } from './fields';

/**
 * Request bodies of the NATS messages, defined once as TypeBox schemas next to their subjects: the schema is
 * what each service checks a message's body against at its edge (`checkMessage`, run by the messaging
 * library's guard before any handler) and, through `Static`, the TypeScript type the sender builds and the
 * handler receives. Each field says how it is refused (`x-refusal`: a stable code and a message naming it) and
 * how it is normalized (`x-normalize`: UUIDs lower-cased; `x-text`: the text-field kinds of fields.ts, trimmed
 * or NFC-normalized and checked with their own messages). Objects allow properties they do not name, as the
 * hand checks they replace did.
 */

/** How a value that breaks its schema is refused. */
export interface Refusal {
  code: ErrorCode;
  message: string;
}

const REFUSAL = 'x-refusal';
const NORMALIZE = 'x-normalize';
const TEXT = 'x-text';

const refusedAs = (message: string, code: ErrorCode = ErrorCode.VALIDATION_FAILED): Record<string, Refusal> => ({ [REFUSAL]: { code, message } });

type Nullable<T extends TSchema> = TUnion<[T, TNull]>;

/** Pieces of request schemas. `message`: what a wrong value is refused with (VALIDATION_FAILED unless `code`). */
export const M = {
  /** an object; the properties not in `required` (default: all) are optional, and others are allowed */
  obj: <P extends TProperties, const R extends keyof P = keyof P>(properties: P, required?: readonly R[]) => {
    const req = new Set<PropertyKey>(required ?? Object.keys(properties));
    const props: TProperties = {};
    for (const [k, s] of Object.entries(properties)) props[k] = req.has(k) ? s : Type.Optional(s);
    return Type.Object(props) as TObject<{ [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> }>;
  },
  /** a UUID in any case, lower-cased */
  uuid: (message: string, code?: ErrorCode): TString =>
    Type.String({
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
      [NORMALIZE]: 'lowercase',
      ...refusedAs(message, code),
    }),
  /** a UUID or null */
  nullableUuid: (message: string): Nullable<TString> => Type.Union([M.uuid(message), Type.Null()], refusedAs(message)),
  /** a string (ids that are not UUIDs, secrets, handles…), optionally lower-cased */
  str: (message: string, options: { minLength?: number; maxLength?: number; code?: ErrorCode; lowercase?: boolean; pattern?: string } = {}): TString => {
    const { code, lowercase, ...limits } = options;
    return Type.String({ ...limits, ...(lowercase ? { [NORMALIZE]: 'lowercase' } : {}), ...refusedAs(message, code) });
  },
  /** free text of a kind of fields.ts: normalized, then checked with the kind's own rules and messages */
  text: (kind: TextField): TUnsafe<string> => Type.Unsafe<string>({ [TEXT]: kind.format }),
  /** one of these strings */
  oneOf: <const V extends readonly string[]>(message: string, ...values: V): TUnsafe<V[number]> =>
    Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...refusedAs(message) }),
  int: (message: string, options: { minimum?: number; maximum?: number } = {}) => Type.Integer({ ...options, ...refusedAs(message) }),
  bool: (message: string) => Type.Boolean(refusedAs(message)),
  /** a list; the items are refused with the list's message */
  list: <T extends TSchema>(items: T, message: string, options: { minItems?: number; maxItems?: number } = {}): TArray<T> =>
    Type.Array({ ...items, ...refusedAs(message) }, { ...options, ...refusedAs(message) }),
  /** a body with nothing to check (health, projection maintenance) */
  none: () => Type.Object({}),
};

/** The label of the field at an ajv instance path: `/accounts/0/email` → `accounts[0].email`. */
function fieldLabel(instancePath: string): string {
  const parts = instancePath.split('/').slice(1);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || 'body';
}

const textKinds = new Map<string, TextField>(TEXT_FIELDS.map((k) => [k.format, k]));

interface DataCxt {
  instancePath: string;
  parentData: Record<string | number, unknown>;
  parentDataProperty: string | number;
}

function messageAjv(): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
  ajv.addKeyword({ keyword: REFUSAL, schemaType: 'object' });
  ajv.addKeyword({
    keyword: NORMALIZE,
    schemaType: 'string',
    modifying: true,
    validate: (_how: string, data: unknown, _schema?: unknown, cxt?: DataCxt) => {
      if (typeof data === 'string' && cxt?.parentData) cxt.parentData[cxt.parentDataProperty] = data.toLowerCase();
      return true;
    },
  });
  const text = (format: string, data: unknown, _schema?: unknown, cxt?: DataCxt): boolean => {
    const kind = textKinds.get(format)!;
    const normalized = typeof data === 'string' ? kind.normalize(data) : data;
    const problem = kind.problem(normalized, fieldLabel(cxt?.instancePath ?? ''));
    if (problem !== null) {
      text.errors = [{ keyword: TEXT, message: problem, params: {} }];
      return false;
    }
    if (cxt?.parentData) cxt.parentData[cxt.parentDataProperty] = normalized;
    return true;
  };
  text.errors = [] as Array<Partial<ErrorObject>>;
  ajv.addKeyword({ keyword: TEXT, schemaType: 'string', modifying: true, errors: true, validate: text });
  return ajv;
}

let ajv: Ajv | undefined;
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** Compiled once per schema, on first use. */
function validatorOf(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = (ajv ??= messageAjv()).compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

const refusalOf = (schema: unknown): Refusal | undefined => (schema as Record<string, Refusal | undefined> | undefined)?.[REFUSAL];

/** The refusal of the first problem ajv found: the failing field's own, else ajv's message naming the field. */
function refusal(error: ErrorObject): Refusal {
  if (error.keyword === TEXT) return { code: ErrorCode.VALIDATION_FAILED, message: error.message ?? `${fieldLabel(error.instancePath)} is not valid` };
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    const property = (error.parentSchema as { properties?: Record<string, Record<string, unknown>> } | undefined)?.properties?.[missing];
    const label = fieldLabel(`${error.instancePath}/${missing}`);
    if (property?.[TEXT] !== undefined)
      return { code: ErrorCode.VALIDATION_FAILED, message: textKinds.get(property[TEXT] as string)!.problem(undefined, label)! };
    return refusalOf(property) ?? { code: ErrorCode.VALIDATION_FAILED, message: `${label} is required` };
  }
  return (
    refusalOf(error.parentSchema) ?? { code: ErrorCode.VALIDATION_FAILED, message: `${fieldLabel(error.instancePath)} ${error.message ?? 'is not valid'}` }
  );
}

/**
 * Checks a message body against its schema, normalizing it in place (UUIDs lower-cased, text fields
 * normalized): the body, typed, or the refusal of its first problem. A missing body is checked as `{}`.
 */
export function checkMessage<T extends TSchema>(schema: T, body: unknown): { ok: true; body: Static<T> } | { ok: false; refusal: Refusal } {
  const value = body ?? {};
  const validate = validatorOf(schema);
  if (validate(value)) return { ok: true, body: value };
  return { ok: false, refusal: refusal(validate.errors![0]) };
}
