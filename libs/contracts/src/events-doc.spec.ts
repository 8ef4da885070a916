import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEventsDoc } from './events-doc';
import { EVENT_CATALOGUE } from './events';
import { validateEvent } from './validate-event';

describe('event contract', () => {
  it('docs/events.md is generated from the catalogue (run `npm run docs:events` after changing an event)', () => {
    expect(readFileSync(join(__dirname, '../../../docs/events.md'), 'utf8')).toBe(renderEventsDoc());
  });

  it('every event type follows the naming convention and has a description', () => {
    for (const d of EVENT_CATALOGUE) {
      expect(d.type).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)+$/);
      expect(d.description.length).toBeGreaterThan(10);
    }
  });

  const valid = {
    id: '6f1c1a2e-8a7b-4c1d-9e2f-0a1b2c3d4e5f',
    type: 'user.api-token-reset',
    version: 1,
    streamId: 'user-1',
    streamVersion: 2,
    service: 'identity',
    occurredAt: '2026-01-01T00:00:00.000Z',
    data: { userId: '6f1c1a2e-8a7b-4c1d-9e2f-0a1b2c3d4e5f', tokenId: '6f1c1a2e-8a7b-4c1d-9e2f-0a1b2c3d4e50' },
    metadata: { actor: { id: 'system' }, correlationId: 'c', causationId: 'c', medium: 'system' },
  };

  it('accepts a well-formed event', () => {
    expect(validateEvent(valid)).toEqual([]);
  });

  it.each([
    ['an undocumented type', { ...valid, type: 'user.teleported' }, /undocumented/],
    ['an extra data field (a secret, say)', { ...valid, data: { ...valid.data, tokenHash: 'abc' } }, /additional/],
    ['a missing envelope field', { ...valid, metadata: { actor: { id: 'x' } } }, /envelope/],
    ['the wrong publishing service', { ...valid, service: 'membership' }, /declared by identity/],
  ])('rejects %s', (_what, event, problem) => {
    expect(validateEvent(event).join('\n')).toMatch(problem);
  });
});
