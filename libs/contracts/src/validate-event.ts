import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_CATALOGUE, findEventDefinition, qualifiedEventName, type CatalogueEvent } from './events';
import type { DomainEvent } from './envelope';
import { fullEventName, type EventDefinition } from './catalogue';
import { TEXT_FIELDS, isNormalizedValid } from './fields';

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

let compiled: { envelope: ValidateFunction; data: Map<string, ValidateFunction> } | undefined;

/** Compiled on first use: only audit-log and the tests check events, and compiling the catalogue would cost every process ~0.3 s of start-up. */
function validators() {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  // the text fields' formats are their own checks (fields.ts): the contract accepts exactly what the services store
  for (const kind of TEXT_FIELDS) ajv.addFormat(kind.format, { type: 'string', validate: (v: string) => isNormalizedValid(kind, v) });
  const definitions: readonly EventDefinition[] = EVENT_CATALOGUE;
  compiled = { envelope: ajv.compile(ENVELOPE_SCHEMA), data: new Map(definitions.map((d) => [qualifiedEventName(d), ajv.compile(d.data)])) };
  return compiled;
}

/** Checks a published event against the catalogue; returns the problems found (empty when valid). */
export function validateEvent(event: unknown): string[] {
  const { envelope, data } = validators();
  if (!envelope(event)) return (envelope.errors ?? []).map((e) => `envelope ${e.instancePath} ${e.message}`);
  const e = event as { type: string; version: number; service: string; organizationId?: string; data: unknown };
  const def = findEventDefinition(e.service, e.type, e.version);
  if (!def) {
    const other = EVENT_CATALOGUE.find((d) => fullEventName(d) === fullEventName(e));
    return [other ? `${e.type} is declared by ${other.service}, published by ${e.service}` : `undocumented event type ${e.type}.v${e.version}`];
  }
  const problems: string[] = [];
  if (def.organizationScoped && !e.organizationId) problems.push(`${e.type} must carry organizationId`);
  const validate = data.get(qualifiedEventName(def))!;
  if (!validate(e.data)) problems.push(...(validate.errors ?? []).map((x) => `data${x.instancePath} ${x.message}`));
  return problems;
}

/**
 * The event as the catalogue's typed union, after checking it against its schema: the one conversion from
 * an event read off the wire or built by hand to a typed one (throws, naming the problems, when it does not
 * match). The event store checks every event before storing it and reads them back typed.
 */
export function catalogueEvent(event: DomainEvent): CatalogueEvent {
  const problems = validateEvent(event);
  if (problems.length) throw new Error(`${event.type}.v${event.version} does not match the event catalogue: ${problems.join('; ')}`);
  return event as CatalogueEvent;
}
