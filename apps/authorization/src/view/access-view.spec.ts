import { randomUUID } from 'node:crypto';
import { catalogueEvent } from '@app/contracts';
import { orgHistory } from '@app/testing';
import { AccessView } from './access-view';

describe('AccessView', () => {
  it('applies events in stream order per organization, ignores redeliveries, and follows username changes', () => {
    const owner = randomUUID();
    const h = orgHistory().created(owner, 'olivia');
    const view = new AccessView();
    h.events.forEach((e, i) => view.ingest(e, i + 1));
    view.ingest(h.events[1], 1);
    expect(view.sequence).toBe(2);
    expect(view.find(h.organizationId)?.owners()).toEqual([owner]);
    expect(view.find(randomUUID())).toBeUndefined();
    const renamed = catalogueEvent({
      ...h.events[0],
      service: 'identity',
      type: 'user.username-changed',
      organizationId: undefined,
      data: { userId: owner, username: 'liv', previousUsername: 'olivia' },
    });
    view.ingest(renamed, 3);
    view.ingest(undefined, 4);
    expect(view.find(h.organizationId)?.users.get(owner)?.username).toBe('liv');
    expect(view.sequence).toBe(4);
  });

  it('catchUp waits until the position reaches the last sequence read after the call; times out with SERVICE_UNAVAILABLE', async () => {
    let last = 5;
    let lookUps = 0;
    const view = new AccessView(async () => (lookUps++, last), 200);
    const waiting = view.catchUp();
    let done = false;
    void waiting.then(() => (done = true));
    for (let s = 1; s <= 4; s++) view.ingest(undefined, s);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    view.ingest(undefined, 5);
    await waiting;
    last = 9;
    await expect(view.catchUp()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(lookUps).toBe(2);
  });
});
