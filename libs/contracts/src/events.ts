import { fullEventName, type EventDefinition, type EventOf } from './catalogue';
import { IDENTITY_EVENTS } from './identity/events';
import { MEMBERSHIP_EVENTS } from './membership/events';
import { AUTHORIZATION_EVENTS } from './authorization/events';

/** Every event type the product publishes. `docs/events.md` is generated from this list. */
export const EVENT_CATALOGUE = [...IDENTITY_EVENTS, ...MEMBERSHIP_EVENTS, ...AUTHORIZATION_EVENTS] as const;

/**
 * Any event of the catalogue, as a union discriminated by `type` (and `service`, `version`): switching on
 * `event.type` narrows `event.data` to the event's schema. Events reach code as this type once, at the
 * consumer's edge, after upcasting (the envelope and `data` are validated against the same schemas).
 */
export type CatalogueEvent = EventOf<(typeof EVENT_CATALOGUE)[number]>;

/**
 * `<service>/<type>.v<version>`: an event is named by its publisher too, since two services may publish one type
 * (membership's `role.assigned`, and authorization's legacy one with the same data).
 */
export const qualifiedEventName = (d: { service: string; type: string; version: number }): string => `${d.service}/${fullEventName(d)}`;

const byName = new Map<string, EventDefinition>(EVENT_CATALOGUE.map((d) => [qualifiedEventName(d), d]));
if (byName.size !== EVENT_CATALOGUE.length) throw new Error('duplicate event type in EVENT_CATALOGUE');

export function findEventDefinition(service: string, type: string, version: number): EventDefinition | undefined {
  return byName.get(qualifiedEventName({ service, type, version }));
}

/**
 * The organization an event names in its `data` (most membership and authorization events carry
 * `organizationId`), else the envelope's: narrowed by the catalogue's schemas, not asserted.
 */
export function organizationIdOf(event: CatalogueEvent): string | undefined {
  const fromData = 'organizationId' in event.data ? event.data.organizationId : undefined;
  return fromData ?? event.organizationId;
}
