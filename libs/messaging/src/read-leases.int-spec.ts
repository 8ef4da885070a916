import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection } from 'nats';
import { eventMetadata, eventsStreamName, evtSubject, systemMeta } from '@app/contracts';
import { renamed, requireInfraEnv, testNaming, until } from '@app/testing';
import { connectNats, ensureStreams, jetStreamManager } from './jetstream';
import { lastSequenceOf } from './inbox-requests';
import { fenceReaders, holdReadLease, LEASE_MS, readLeasesStreamName, RECORD_TTL_MS, type Fence, type ReadLease } from './read-leases';

/** Read leases against a real nats-server: readers on connections of their own, a writer fencing them. */
describe('read leases: readers that skip the look-up, writers that fence them (real NATS)', () => {
  const naming = testNaming();
  const connections: NatsConnection[] = [];
  const leases: ReadLease[] = [];
  let writer: NatsConnection;

  const connection = async () => {
    const nc = await connectNats(requireInfraEnv().natsUrl, 'read-leases-test');
    connections.push(nc);
    return nc;
  };
  const streamEnd = async (nc: NatsConnection) => lastSequenceOf(await jetStreamManager(nc), eventsStreamName(naming));
  /** a reader: a lease whose floor the test reads (no consumer: the floor is what a request would wait for) */
  const reader = async () => {
    const nc = await connection();
    const lease = await holdReadLease(nc, naming, () => streamEnd(nc));
    leases.push(lease);
    return { nc, lease };
  };
  /** an event in the events stream, as a writer's relay publishes it: its sequence */
  const publish = async () => {
    const userId = randomUUID();
    const event = {
      id: randomUUID(),
      ...renamed(userId, 1),
      streamId: `user-${userId}`,
      streamVersion: 1,
      service: 'identity',
      occurredAt: new Date().toISOString(),
      metadata: eventMetadata(systemMeta('read-leases-test')),
    };
    return (await writer.jetstream().publish(naming.subject(evtSubject('identity', event.type, 1)), JSONCodec().encode(event))).seq;
  };
  /** the readers' records in the leases stream now (their subjects), as a writer lists them */
  const listed = async () =>
    Object.keys(
      (await (await jetStreamManager(writer)).streams.info(readLeasesStreamName(naming), { subjects_filter: naming.subject('read-leases.*') })).state
        .subjects ?? {},
    );
  const timed = async (fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };

  beforeAll(async () => {
    writer = await connection();
    await ensureStreams(writer, naming);
  });

  afterAll(async () => {
    for (const lease of leases) await lease.stop().catch(() => undefined);
    for (const nc of connections) await nc.close().catch(() => undefined);
  });

  it('a lease is held from its first renewal, its floor the stream’s end looked up then', async () => {
    const before = await publish();
    const { lease } = await reader();
    expect(lease.floor()).toBe(before);
  });

  it('a fence raises the floor of every reader before it resolves, without waiting', async () => {
    const a = await reader();
    const b = await reader();
    const sequence = await publish();
    // a renewal (every second) would raise the floors too: the fence must do it at once
    expect(a.lease.floor()).toBeLessThan(sequence);
    expect(b.lease.floor()).toBeLessThan(sequence);
    let fence: Fence | undefined;
    const took = await timed(async () => (fence = await fenceReaders(writer, naming, sequence)));
    expect(fence).toEqual({ readers: expect.any(Number), waitedOut: 0 });
    expect(fence!.readers).toBeGreaterThanOrEqual(2);
    expect(a.lease.floor()).toBe(sequence);
    expect(b.lease.floor()).toBe(sequence);
    expect(took).toBeLessThan(LEASE_MS / 2);
  });

  it('a reader that died without a word is waited out: the fence resolves once its lease must have ended', async () => {
    const gone = await reader();
    await gone.nc.close(); // its record stays until it expires
    let fence: Fence | undefined;
    const took = await timed(async () => (fence = await fenceReaders(writer, naming, await publish())));
    expect(fence!.waitedOut).toBe(1); // what the writer logs
    expect(took).toBeGreaterThanOrEqual(LEASE_MS * 0.9);
    expect(took).toBeLessThan(LEASE_MS * 2);
  });

  it('a reader that died is forgotten once its record expires, after its lease must have ended: fences stop waiting for it', async () => {
    const others = new Set(await listed());
    const gone = await reader();
    const [record] = (await listed()).filter((subject) => !others.has(subject));
    expect(record).toBeDefined();
    await gone.nc.close();
    const died = performance.now();
    await until('its record expired', async () => !(await listed()).includes(record), RECORD_TTL_MS + 3000);
    // listed as long as a lease of its last renewal could last (what is not listed is not fenced), gone soon after
    expect(performance.now() - died).toBeGreaterThanOrEqual(LEASE_MS);
    expect(performance.now() - died).toBeLessThan(RECORD_TTL_MS + 3000);
    expect((await fenceReaders(writer, naming, await publish())).waitedOut).toBe(0);
  }, 20_000);

  it('a reader that stopped is forgotten at once: no longer listed, so no fence waits for it', async () => {
    const stopped = await reader();
    const before = (await listed()).length;
    await stopped.lease.stop();
    expect(stopped.lease.floor()).toBeUndefined();
    expect(await listed()).toHaveLength(before - 1);
  });

  it('a reader whose connection dropped holds no lease until a renewal begun after the drop', async () => {
    const nc = await connection();
    /** while set, each look-up waits here until the test answers it */
    let held: Array<(end: number) => void> | undefined;
    const told: Array<[boolean, string | undefined]> = [];
    const lease = await holdReadLease(
      nc,
      naming,
      async () => (held ? new Promise<number>((answer) => held!.push(answer)) : streamEnd(nc)),
      (isHeld, reason) => told.push([isHeld, reason]),
    );
    leases.push(lease);
    expect(lease.floor()).toBeDefined();
    held = [];
    await until('a renewal began, and waits for its look-up', async () => held!.length > 0, 3 * LEASE_MS);
    const [begunBefore] = held;
    await nc.reconnect();
    // at once, not when the lease would have run out (a renewal succeeded less than a second before the look-up
    // began, so the lease had about two seconds left): a fence may have been lost meanwhile
    await until('the lease ended', async () => lease.floor() === undefined, LEASE_MS / 4);
    // the renewal begun before the drop completes: it makes no lease
    begunBefore(await streamEnd(writer));
    await new Promise((r) => setTimeout(r, 50));
    expect(lease.floor()).toBeUndefined();
    // the renewals begun after it do
    const end = await streamEnd(writer);
    const after = held.slice(1);
    held = undefined;
    for (const answer of after) answer(end);
    await until('a lease is held again', async () => lease.floor() !== undefined, 3 * LEASE_MS);
    expect(lease.floor()).toBeGreaterThanOrEqual(end);
    // what the gateway logs: lost once (the first lease at start is not news), then held again
    expect(told).toEqual([
      [false, expect.stringContaining('connection dropped')],
      [true, undefined],
    ]);
  });
});
