import type { ServiceName } from './subjects';

/** JSON schema (draft 2020-12 subset understood by ajv) of an event's `data`. */
export type JsonSchema = Record<string, unknown>;

export interface EventDefinition {
  service: ServiceName;
  /** `<aggregate>.<past-tense-phrase>`, lowercase kebab tokens */
  type: string;
  version: number;
  description: string;
  /** whether the event belongs to one organization (then `organizationId` is set on the envelope) */
  organizationScoped: boolean;
  data: JsonSchema;
}

export const defineEvent = <D extends EventDefinition>(d: D): D => d;

/** Reusable schema pieces. */
export const S = {
  uuid: { type: 'string', format: 'uuid' },
  str: (maxLength = 500) => ({ type: 'string', maxLength }),
  isoDate: { type: 'string', format: 'date-time' },
  obj: (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({
    type: 'object',
    additionalProperties: false,
    properties,
    required,
  }),
  arrayOf: (items: unknown) => ({ type: 'array', items }),
  oneOf: (...values: string[]) => ({ type: 'string', enum: values }),
};

export const fullEventName = (d: { type: string; version: number }): string => `${d.type}.v${d.version}`;
