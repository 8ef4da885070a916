import { catalogueEvent, EVENT_CATALOGUE, type CommandMeta, type DomainEvent, type EventDefinition, type NewEvent } from '@app/contracts';

const definitions: readonly EventDefinition[] = EVENT_CATALOGUE;

/** The service that publishes an event type now (the first in the catalogue: membership's `role.assigned`, not the legacy one). */
const publisherOf = (e: NewEvent): DomainEvent['service'] => definitions.find((d) => d.type === e.type && d.version === e.version)?.service ?? 'identity';
import type { Decider } from '@app/event-store';

/** Metadata for decider tests: fixed time and ids. */
export function testMeta(overrides: Partial<CommandMeta> = {}): CommandMeta {
  return {
    commandId: '00000000-0000-4000-8000-000000000001',
    actor: { id: '00000000-0000-4000-8000-0000000000aa', username: 'actor' },
    correlationId: 'corr-1',
    medium: 'api',
    timestamp: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** Turns decider output into stored-looking events so `given` can take what a decider returned. */
export function asStored(events: NewEvent[], streamId = 'test-stream', from = 1): DomainEvent[] {
  return events.map((e, i) => ({
    id: `00000000-0000-4000-8000-${String(from + i).padStart(12, '0')}`,
    type: e.type,
    version: e.version,
    streamId,
    streamVersion: from + i,
    service: publisherOf(e),
    occurredAt: '2026-01-01T00:00:00.000Z',
    ...(e.organizationId ? { organizationId: e.organizationId } : {}),
    data: e.data,
    metadata: { actor: { id: 'system' }, correlationId: 'c', causationId: 'c', medium: 'system' },
  }));
}

/**
 * Given events / when command / then events, error or nothing:
 *   spec(decider).given(e1, e2).when(cmd).then([...]) | .thenThrows('CODE') | .thenNothing()
 */
export function deciderSpec<S, C>(decider: Decider<S, C>) {
  return {
    given(...history: NewEvent[]) {
      // checked against the catalogue: a spec's history is made of events the services could have stored
      const state = asStored(history).map(catalogueEvent).reduce(decider.evolve, decider.initialState);
      return {
        when(command: C, meta: CommandMeta = testMeta()) {
          const run = () => decider.decide(command, state, meta);
          return {
            then(expected: Array<Partial<NewEvent>>) {
              expect(run()).toEqual(expected.map((e) => expect.objectContaining(e)));
            },
            thenNothing() {
              expect(run()).toEqual([]);
            },
            thenThrows(code: string) {
              expect(run).toThrow(expect.objectContaining({ code }));
            },
            events: run,
          };
        },
      };
    },
  };
}
