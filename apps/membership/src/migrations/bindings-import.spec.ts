import { randomUUID } from 'node:crypto';
import { catalogueEvent } from '@app/contracts';
import { orgHistory } from '@app/testing';
import { importEvents, importPlans, LegacyHistoryFold, SUBJECTS_PER_EVENT } from './bindings-import';
import { evolveOrganization, initialOrganizationState } from '../organization/organization.state';

/** The plan of the bindings migration, on histories in JetStream order (the e2e test runs it on a recorded one). */
describe('bindings import plan', () => {
  const owner = randomUUID();
  const ann = randomUUID();
  const project = randomUUID();

  function legacyOrganization() {
    const h = orgHistory().created(owner).memberAdded(ann).projectCreated(project, owner);
    h.legacyAssigned('user', ann, h.role('admin')).legacyAssigned('user', ann, h.role('project-reader'), project);
    // removed and added again: the bindings of before are gone, whichever stream they were on
    h.memberRemoved(ann).memberAdded(ann).legacyAssigned('user', ann, h.role('project-contributor'), project);
    return h;
  }

  it('folds in stream order and restates every binding; the organization stream with the import answers as the whole history', () => {
    const h = legacyOrganization();
    const fold = new LegacyHistoryFold();
    h.events.forEach((e) => fold.apply(e));
    const [plan] = importPlans(fold);
    const membershipEvents = h.events.filter((e) => e.service === 'membership');
    expect(plan).toMatchObject({ organizationId: h.organizationId, expectedVersion: membershipEvents.length });
    expect(plan.events).toHaveLength(1);
    expect(plan.events[0].data.subjects).toEqual([
      { subjectType: 'user', subjectId: owner, roleId: h.role('owner'), projectRoles: [{ projectId: project, roleId: h.role('project-admin') }] },
      { subjectType: 'user', subjectId: ann, roleId: h.role('member'), projectRoles: [{ projectId: project, roleId: h.role('project-contributor') }] },
    ]);
    const stored = plan.events.map((e, i) => ({ ...membershipEvents[0], ...e, id: randomUUID(), streamVersion: plan.expectedVersion + 1 + i }));
    const decided = [...membershipEvents, ...stored].map(catalogueEvent).reduce(evolveOrganization, initialOrganizationState);
    expect(decided.bindings()).toEqual(h.index().bindings());
  });

  it('skips copies of events (a re-publish beyond the duplicate window) and organizations without legacy bindings or already imported', () => {
    const h = legacyOrganization();
    const plain = orgHistory().created(randomUUID());
    const fold = new LegacyHistoryFold();
    // a second copy of the first legacy binding (Admin, before ann was removed) at the end would make her Admin again
    expect(h.events[4]).toMatchObject({ service: 'authorization', streamVersion: 1, data: { roleId: h.role('admin') } });
    [...h.events, h.events[4], ...plain.events].forEach((e) => fold.apply(e));
    expect(fold.orgs.get(h.organizationId)!.org.bindings()).toEqual(h.index().bindings());
    expect(importPlans(fold).map((p) => p.organizationId)).toEqual([h.organizationId]);
    h.bindingsImported(h.index().bindings());
    const again = new LegacyHistoryFold();
    h.events.forEach((e) => again.apply(e));
    expect(importPlans(again)).toEqual([]);
  });

  it(`a large organization is restated in events of at most ${SUBJECTS_PER_EVENT} subjects`, () => {
    const h = orgHistory().created(owner);
    for (let i = 0; i < SUBJECTS_PER_EVENT + 1; i++) h.memberAdded(randomUUID());
    const events = importEvents(h.index());
    expect(events.map((e) => (e.data.subjects as unknown[]).length)).toEqual([SUBJECTS_PER_EVENT, 2]);
  });
});
