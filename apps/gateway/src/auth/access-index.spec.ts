import { randomUUID } from 'node:crypto';
import { OrgAccess, type OrgAccessSnapshot } from '@app/access-model';
import type { CatalogueEvent, OrgAccessReply } from '@app/contracts';
import { Position } from '@app/event-store';
import { orgHistory } from '@app/testing';
import { AccessIndex } from './access-index';

const VIEW = 'organization.people.view';

/** What authorization's view answers: the history folded up to `sequence` (the events are sequences 1, 2, …). */
const viewAt = (organizationId: string, events: CatalogueEvent[], sequence: number): OrgAccessReply<OrgAccessSnapshot> => {
  const org = new OrgAccess(organizationId);
  for (const e of events.slice(0, sequence)) org.apply(e);
  return { sequence, snapshot: org.exists ? org.toSnapshot() : null };
};

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('AccessIndex (the gateway decides checks from it)', () => {
  const owner = randomUUID();
  const ann = randomUUID();
  const allowed = (index: AccessIndex, org: string, user: string) => index.find(org)?.check(user, null, [VIEW]).allowed[VIEW] ?? false;

  it('an organization loaded while its events arrive: the events after the loaded state are applied, those in it not twice', async () => {
    // 1 created, 2 the owner added, 3 ann added as Member, 4 ann made Admin (may view people), 5 ann Member again
    const h = orgHistory().created(owner).memberAdded(ann, 'member');
    h.assigned('user', ann, h.role('admin'));
    h.assigned('user', ann, h.role('member'));
    const org = h.organizationId;
    const events = h.events;
    const index = new AccessIndex(() => undefined);
    // the consumer has handed over events 1–3 when the first request for the organization comes
    for (let seq = 1; seq <= 3; seq++) index.ingest(events[seq - 1], seq);
    const reply = deferred<OrgAccessReply<OrgAccessSnapshot>>();
    let askedAtLeast = -1;
    const loading = index.load(org, (atLeast) => ((askedAtLeast = atLeast), reply.promise));
    expect(askedAtLeast).toBe(3); // at least what the index has seen: the view's answer then covers 1–3
    // meanwhile the consumer delivers 4 and 5; the view answers as of 4
    index.ingest(events[3], 4);
    index.ingest(events[4], 5);
    reply.resolve(viewAt(org, events, 4));
    await loading;
    expect(index.find(org)!.streamVersion).toBe(5);
    expect(allowed(index, org, ann)).toBe(false); // 5 applied after the state of 4
    // later events keep it true
    h.assigned('user', ann, h.role('admin'));
    index.ingest(events[5], 6);
    expect(allowed(index, org, ann)).toBe(true);
    expect(index.find(org)!.streamVersion).toBe(6);
  });

  it('an organization too large to load is remote: nothing kept, its events ignored, asked of authorization until dropped', async () => {
    const h = orgHistory().created(owner).memberAdded(ann, 'member');
    const org = h.organizationId;
    const index = new AccessIndex(() => undefined, 1);
    let loads = 0;
    const tooLarge = async (): Promise<OrgAccessReply<OrgAccessSnapshot>> => (loads++, { sequence: 2, snapshot: null, tooLarge: true });
    await index.load(org, tooLarge);
    expect(index.isRemote(org)).toBe(true);
    expect(index.find(org)).toBeUndefined();
    h.assigned('user', ann, h.role('admin'));
    expect(() => index.ingest(h.events[2], 3)).not.toThrow();
    await index.load(org, tooLarge); // kept as remote: not asked again
    expect(loads).toBe(1);
    // dropped (another organization took its place), then loaded again: asked again
    await index.load(orgHistory().created(owner).organizationId, async () => ({ sequence: 3, snapshot: null }));
    expect(index.isRemote(org)).toBe(false);
    await index.load(org, tooLarge);
    expect(loads).toBe(2);
  });

  it("a remote organization's answers are used again until an event of it: one that came while an answer was asked voids it too", async () => {
    const h = orgHistory().created(owner).memberAdded(ann, 'member');
    const org = h.organizationId;
    const other = orgHistory().created(owner);
    const index = new AccessIndex(() => undefined);
    for (let seq = 1; seq <= 2; seq++) index.ingest(h.events[seq - 1], seq);
    const member = { member: true, allowed: { [VIEW]: false } };
    // the consumer hands over event 3 (of this organization) while the load is in flight: held, then dropped
    h.assigned('user', ann, h.role('admin'));
    const reply = deferred<OrgAccessReply<OrgAccessSnapshot>>();
    const loading = index.load(org, () => reply.promise);
    index.ingest(h.events[2], 3);
    reply.resolve({ sequence: 2, snapshot: null, tooLarge: true });
    await loading;
    // an answer asked at read index 2 may predate event 3: not used; one asked at 3 is
    index.keepRemoteAnswer(org, 'q', member, 2);
    expect(index.remoteAnswer(org, 'q')).toBeUndefined();
    index.keepRemoteAnswer(org, 'q', member, 3);
    expect(index.remoteAnswer(org, 'q')).toBe(member);
    expect(index.remoteAnswer(org, 'another question')).toBeUndefined();
    // events of another organization, or of no organization, change nothing here
    index.ingest(other.events[0], 4);
    index.ingest(undefined, 5);
    expect(index.remoteAnswer(org, 'q')).toBe(member);
    // an event of the organization voids every answer asked before it
    h.assigned('user', ann, h.role('member'));
    index.ingest(h.events[3], 6);
    expect(index.remoteAnswer(org, 'q')).toBeUndefined();
    // an answer asked before it and arriving after it (a check in flight) is not used either
    index.keepRemoteAnswer(org, 'q', member, 5);
    expect(index.remoteAnswer(org, 'q')).toBeUndefined();
    index.keepRemoteAnswer(org, 'q', member, 6);
    expect(index.remoteAnswer(org, 'q')).toBe(member);
  });

  it('answers are kept for remote organizations only, at most 10,000 each, the oldest dropped first', async () => {
    const index = new AccessIndex(() => undefined);
    const local = orgHistory().created(owner).organizationId;
    await index.load(local, async () => ({ sequence: 1, snapshot: null }));
    index.keepRemoteAnswer(local, 'q', { member: true, allowed: {} }, 1);
    expect(index.remoteAnswer(local, 'q')).toBeUndefined();
    const remote = orgHistory().created(owner).organizationId;
    await index.load(remote, async () => ({ sequence: 1, snapshot: null, tooLarge: true }));
    for (let i = 0; i <= 10_000; i++) index.keepRemoteAnswer(remote, `q${i}`, { member: true, allowed: {} }, 1);
    expect(index.remoteAnswer(remote, 'q0')).toBeUndefined();
    expect(index.remoteAnswer(remote, 'q1')).toBeDefined();
    expect(index.remoteAnswer(remote, 'q10000')).toBeDefined();
  });

  it('a failed load is forgotten (the next request loads again); an organization without events is nobody’s', async () => {
    const h = orgHistory().created(owner);
    const index = new AccessIndex(() => undefined);
    await expect(index.load(h.organizationId, () => Promise.reject(new Error('authorization did not answer')))).rejects.toThrow('did not answer');
    expect(index.size).toBe(0);
    await index.load(h.organizationId, async () => viewAt(h.organizationId, h.events, 2));
    expect(index.find(h.organizationId)?.check(owner, null, [VIEW])).toEqual({ member: true, allowed: { [VIEW]: true } });
    const none = randomUUID();
    await index.load(none, async () => ({ sequence: 2, snapshot: null }));
    expect(index.find(none)).toBeUndefined();
  });

  it('keeps at most maxOrganizations, dropping the least recently used', async () => {
    const index = new AccessIndex(() => undefined, 2);
    const [a, b, c] = [orgHistory().created(owner), orgHistory().created(owner), orgHistory().created(owner)];
    const load = (h: ReturnType<typeof orgHistory>) => index.load(h.organizationId, async () => viewAt(h.organizationId, h.events, 2));
    await load(a);
    await load(b);
    await load(a); // a used last
    await load(c);
    expect([a, b, c].map((h) => index.find(h.organizationId) !== undefined)).toEqual([true, false, true]);
  });

  it('waits for the caller’s writes (consistency tokens) of this organization, bounded', async () => {
    const h = orgHistory().created(owner);
    const org = h.organizationId;
    const progress = new Position(2);
    const index = new AccessIndex(() => progress);
    await index.load(org, async () => viewAt(org, h.events, 2));
    const token = { streamId: `organization-${org}`, version: 3 };
    expect(await index.reflects(org, [token], 50)).toBe(false);
    expect(await index.reflects(org, [{ streamId: `organization-${randomUUID()}`, version: 9 }], 50)).toBe(true); // another organization's
    const waiting = index.reflects(org, [token], 2000);
    h.memberAdded(ann);
    index.ingest(h.events[2], 3);
    progress.advance(3);
    expect(await waiting).toBe(true);
  });
});
