import { fullEventName, type EventDefinition } from './catalogue';
import { IDENTITY_EVENTS } from './identity/events';
import { MEMBERSHIP_EVENTS } from './membership/events';
import { AUTHORIZATION_EVENTS } from './authorization/events';

/** Every event type the product publishes. `docs/events.md` is generated from this list. */
export const EVENT_CATALOGUE: readonly EventDefinition[] = [
  ...IDENTITY_EVENTS,
  ...MEMBERSHIP_EVENTS,
  ...AUTHORIZATION_EVENTS,
];

const byName = new Map(EVENT_CATALOGUE.map((d) => [fullEventName(d), d]));
if (byName.size !== EVENT_CATALOGUE.length) throw new Error('duplicate event type in EVENT_CATALOGUE');

export function findEventDefinition(type: string, version: number): EventDefinition | undefined {
  return byName.get(`${type}.v${version}`);
}
