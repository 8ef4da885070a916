import type { AccessViewSnapshot } from './access-view';
import { AccessView } from './access-view';
import { scheduleSnapshots } from '@app/event-store';
import type { SnapshotHead, SnapshotStore } from './view-snapshot';

/** The schedule alone (the store is a recorder here; the real one is exercised in authorization.int-spec.ts). */
describe('scheduleSnapshots', () => {
  const stream = { name: 'EVENTS', created: '2026-01-01T00:00:00Z' };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const until = async (ready: () => boolean) => {
    for (const deadline = Date.now() + 5000; !ready() && Date.now() < deadline; ) await sleep(10);
  };

  function recorder(opts: { writeMs?: number } = {}) {
    const written: number[] = [];
    let newest: SnapshotHead | null = null;
    let inFlight = 0;
    let maxInFlight = 0;
    const head = (sequence: number, createdAt = new Date()): SnapshotHead => ({
      _id: `s${sequence}`,
      format: 1,
      stream: stream.name,
      streamCreated: stream.created,
      sequence,
      orgs: 0,
      chunks: 1,
      bytes: 1,
      sha256: '',
      createdAt,
    });
    const store = {
      newest: async () => newest,
      write: async (s: AccessViewSnapshot) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await sleep(opts.writeMs ?? 0);
        inFlight--;
        written.push(s.sequence);
        return (newest = head(s.sequence));
      },
      prune: async () => undefined,
    } as unknown as SnapshotStore;
    return { store, written, otherReplicaWrote: (seq: number) => (newest = head(seq)), maxInFlight: () => maxInFlight };
  }
  /** the authorization view as the scheduler sees it (view.consumer.ts) */
  const of = (view: AccessView) => ({ name: 'authorization view', position: () => view.sequence, take: () => view.snapshot() });
  const viewAt = (seq: number) => {
    const view = new AccessView();
    for (let s = 1; s <= seq; s++) view.ingest(undefined, s);
    return view;
  };

  it('writes once both are reached: enough events and enough time since the newest snapshot', async () => {
    const r = recorder();
    const view = viewAt(5);
    const s = scheduleSnapshots({
      ...of(view),
      store: r.store,
      stream,
      schedule: { everyEvents: 10, everyMs: 1000, checkEveryMs: 10 },
      newest: { sequence: 0, createdAt: new Date() },
      idle: () => true,
    });
    await sleep(60);
    for (let q = 6; q <= 12; q++) view.ingest(undefined, q);
    await sleep(50);
    expect(r.written).toEqual([]); // 12 events, but not 1 s yet
    await until(() => r.written.length > 0);
    expect(r.written).toEqual([12]);
    await sleep(200);
    expect(r.written).toEqual([12]); // time passed, no new events
    await s.stop();
  });

  it('never while busy, never two at a time, and not when another replica has just written one', async () => {
    const r = recorder({ writeMs: 80 });
    const view = viewAt(20);
    let idle = false;
    const s = scheduleSnapshots({ ...of(view), store: r.store, stream, schedule: { everyEvents: 10, everyMs: 0, checkEveryMs: 10 }, idle: () => idle });
    await sleep(50);
    expect(r.written).toEqual([]);
    idle = true;
    await sleep(40);
    for (let q = 21; q <= 40; q++) view.ingest(undefined, q); // due again while the first write is in flight
    await until(() => r.written.length > 1);
    await sleep(50);
    expect(r.written).toEqual([20, 40]);
    expect(r.maxInFlight()).toBe(1);

    for (let q = 41; q <= 55; q++) view.ingest(undefined, q);
    r.otherReplicaWrote(50); // only 5 events behind it: not due
    await sleep(100);
    expect(r.written).toEqual([20, 40]);
    await s.stop();
  });
});
