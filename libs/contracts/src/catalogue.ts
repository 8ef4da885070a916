import { Type, type Static, type TObject, type TOptional, type TProperties, type TSchema, type TUnsafe } from '@sinclair/typebox';
import type { DomainEvent, NewEvent } from './envelope';
import type { ServiceName } from './subjects';

/** JSON schema (draft 2020-12 subset understood by ajv) of an event's `data`. */
export type JsonSchema = TSchema;

/**
 * One event type, defined once: its `data` is a TypeBox schema, which is both the JSON schema the events are
 * validated with (and `docs/events.md` shows) and, through `EventData`, the TypeScript type of `data`.
 */
export interface EventDefinition<T extends string = string, D extends TSchema = TSchema, Svc extends ServiceName = ServiceName> {
  service: Svc;
  /** `<aggregate>.<past-tense-phrase>`, lowercase kebab tokens */
  type: T;
  version: number;
  description: string;
  /** whether the event belongs to one organization (then `organizationId` is set on the envelope) */
  organizationScoped: boolean;
  data: D;
}

export const defineEvent = <const T extends string, D extends TSchema, const Svc extends ServiceName>(
  d: EventDefinition<T, D, Svc>,
): EventDefinition<T, D, Svc> => d;

/** The type of an event definition's `data`. */
export type EventData<E> = E extends EventDefinition<string, infer D> ? Static<D> : never;

/** A stored or published event of a definition (its `type`, `service` and `data` typed). */
export type EventOf<E> = E extends EventDefinition<infer T, infer D, infer Svc> ? DomainEvent<T, Static<D>> & { service: Svc } : never;

/** Whether `event` is of the definition (type, service and version), narrowing its `data`. */
export const isEvent = <E extends EventDefinition>(event: DomainEvent, def: E): event is DomainEvent & EventOf<E> =>
  event.type === def.type && event.service === def.service && event.version === def.version;

/** Whether a new event (what a decider returned) is of the definition, narrowing its `data`. */
export const isNewEvent = <E extends EventDefinition>(event: NewEvent, def: E): event is NewEvent & { type: E['type']; data: EventData<E> } =>
  event.type === def.type && event.version === def.version;

/** A new event of a definition, typed by its schema (what deciders return). */
export const newEvent = <E extends EventDefinition>(def: E, data: EventData<E>, organizationId?: string): NewEvent =>
  organizationId === undefined
    ? { type: def.type, version: def.version, data: data as Record<string, unknown> }
    : { type: def.type, version: def.version, data: data as Record<string, unknown>, organizationId };

type WithOptional<P extends TProperties, R extends keyof P> = { [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> };

/** Reusable schema pieces. */
export const S = {
  uuid: Type.String({ format: 'uuid' }),
  str: (maxLength = 500) => Type.String({ maxLength }),
  isoDate: Type.String({ format: 'date-time' }),
  bool: (description?: string) => Type.Boolean(description === undefined ? {} : { description }),
  int: (options: { minimum?: number; description?: string } = {}) => Type.Integer(options),
  /** an object with exactly these properties; those not in `required` (default: all) are optional */
  obj: <P extends TProperties, const R extends keyof P = keyof P>(properties: P, required?: readonly R[]): TObject<WithOptional<P, R>> => {
    const req = new Set<PropertyKey>(required ?? Object.keys(properties));
    const props: TProperties = {};
    for (const [k, s] of Object.entries(properties)) props[k] = req.has(k) ? s : Type.Optional(s);
    return Type.Object(props, { additionalProperties: false }) as TObject<WithOptional<P, R>>;
  },
  arrayOf: <T extends TSchema>(items: T, options: { description?: string } = {}) => Type.Array(items, options),
  /** one of these strings (a JSON-schema `enum`) */
  oneOf: <const V extends readonly string[]>(...values: V): TUnsafe<V[number]> => Type.Unsafe<V[number]>({ type: 'string', enum: [...values] }),
  nullable: <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]),
  /** the same schema with a description */
  described: <T extends TSchema>(schema: T, description: string): T => ({ ...schema, description }),
};

export const fullEventName = (d: { type: string; version: number }): string => `${d.type}.v${d.version}`;
