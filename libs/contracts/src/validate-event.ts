import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_CATALOGUE, findEventDefinition, qualifiedEventName } from './events';
import { fullEventName } from './catalogue';
import { TEXT_FIELDS, isNormalizedValid } from './fields';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
// the text fields' formats are their own checks (fields.ts): the contract accepts exactly what the services store
for (const kind of TEXT_FIELDS) ajv.addFormat(kind.format, { type: 'string', validate: (v: string) => isNormalizedValid(kind, v) });

/** Schema of the envelope every published event has (see docs/events.md). */
export const ENVELOPE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'version', 'streamId', 'streamVersion', 'service', 'occurredAt', 'data', 'metadata'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    type: { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$' },
    version: { type: 'integer', minimum: 1 },
    streamId: { type: 'string', minLength: 1 },
    streamVersion: { type: 'integer', minimum: 1 },
    service: { enum: ['identity', 'membership', 'authorization', 'audit-log'] },
    occurredAt: { type: 'string', format: 'date-time' },
    organizationId: { type: 'string', format: 'uuid' },
    data: { type: 'object' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['actor', 'correlationId', 'causationId', 'medium'],
      properties: {
        actor: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1 }, username: { type: 'string' } },
        },
        correlationId: { type: 'string', minLength: 1 },
        causationId: { type: 'string', minLength: 1 },
        requestId: { type: 'string', maxLength: 200 },
        ip: { type: 'string', maxLength: 100 },
        userAgent: { type: 'string', maxLength: 1000 },
        medium: { enum: ['api', 'web', 'cli', 'system'] },
      },
    },
  },
} as const;

const envelope = ajv.compile(ENVELOPE_SCHEMA);
const dataValidators = new Map<string, ValidateFunction>(
  EVENT_CATALOGUE.map((d) => [qualifiedEventName(d), ajv.compile(d.data)]),
);

/** Checks a published event against the catalogue; returns the problems found (empty when valid). */
export function validateEvent(event: unknown): string[] {
  if (!envelope(event)) return (envelope.errors ?? []).map((e) => `envelope ${e.instancePath} ${e.message}`);
  const e = event as { type: string; version: number; service: string; organizationId?: string; data: unknown };
  const def = findEventDefinition(e.service, e.type, e.version);
  if (!def) {
    const other = EVENT_CATALOGUE.find((d) => fullEventName(d) === fullEventName(e));
    return [other ? `${e.type} is declared by ${other.service}, published by ${e.service}` : `undocumented event type ${e.type}.v${e.version}`];
  }
  const problems: string[] = [];
  if (def.organizationScoped && !e.organizationId) problems.push(`${e.type} must carry organizationId`);
  const validate = dataValidators.get(qualifiedEventName(def))!;
  if (!validate(e.data)) problems.push(...(validate.errors ?? []).map((x) => `data${x.instancePath} ${x.message}`));
  return problems;
}
