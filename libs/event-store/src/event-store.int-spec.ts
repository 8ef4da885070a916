import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { systemMeta, type DomainEvent } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { createEventStore, type EventStore } from './event-store';
import { createReservations } from './reservations';
import { ConcurrencyError } from './errors';
import { handleCommand, type Decider } from './command-handler';

/** the counter of the test's own event type (not in the catalogue: this store does not validate) */
const nOf = (e: { data: unknown }): number => (e.data as { n: number }).n;
const ev = (n: number) => ({ type: 'counter.incremented', version: 1, data: { n } });

describe('event store on a MongoDB-wire server', () => {
  let mongo: MongoClient;
  let db: Db;
  let store: EventStore;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('event_store'));
    // the generic store behaviours use events of their own (counters, seats), not the catalogue's
    store = createEventStore(db, { service: 'identity', validate: false });
    await store.ensureIndexes();
  });
  afterAll(() => mongo.close());

  it('by default stores only events that match the event catalogue, and writes nothing otherwise', async () => {
    const checked = createEventStore(db, { service: 'identity' });
    const userId = randomUUID();
    const stream = `user-${userId}`;
    const changed = (name: unknown) => ({ type: 'user.screen-name-changed', version: 1, data: { userId, name, previousName: 'Ada' } });
    await expect(checked.append(stream, 0, [ev(1)], { commandId: randomUUID(), meta: systemMeta('t1') })).rejects.toThrow(
      /counter\.incremented\.v1.*undocumented/,
    );
    await expect(checked.append(stream, 0, [changed(42)], { commandId: randomUUID(), meta: systemMeta('t2') })).rejects.toThrow(/data\/name must be string/);
    await expect(
      checked.appendMany([{ streamId: stream, expectedVersion: 0, events: [changed('')], commandId: randomUUID() }], systemMeta('t3')),
    ).rejects.toThrow(/refusing to store/);
    expect(await checked.commits.countDocuments({ streamId: stream })).toBe(0);
    await checked.append(stream, 0, [changed('Ada L.')], { commandId: randomUUID(), meta: systemMeta('t4') });
    const [stored] = await checked.readStream(stream);
    expect(stored.type === 'user.screen-name-changed' && stored.data.name).toBe('Ada L.');
  });

  it('appends one commit per append and reads the stream back in order', async () => {
    const stream = `counter-${randomUUID()}`;
    await store.append(stream, 0, [ev(1), ev(2)], { commandId: randomUUID(), meta: systemMeta('c1') });
    await store.append(stream, 2, [ev(3)], { commandId: randomUUID(), meta: systemMeta('c2') });
    const events = await store.readStream(stream);
    expect(events.map((e) => [e.streamVersion, nOf(e)])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(await store.commits.countDocuments({ streamId: stream })).toBe(2);
    expect(await store.readStream(stream, 2)).toHaveLength(1);
  });

  it('refuses a stale expected version with a ConcurrencyError', async () => {
    const stream = `counter-${randomUUID()}`;
    await store.append(stream, 0, [ev(1)], { commandId: randomUUID(), meta: systemMeta('c') });
    await expect(store.append(stream, 0, [ev(2)], { commandId: randomUUID(), meta: systemMeta('c') })).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('lets exactly one of N concurrent writers take each version: no gaps, no partial commits', async () => {
    const stream = `counter-${randomUUID()}`;
    const writers = 8;
    const appendsPerWriter = 6;
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let done = 0; done < appendsPerWriter; ) {
          const { version } = await store.load(stream, (s: number) => s, 0);
          try {
            await store.append(stream, version, [ev(w), ev(w), ev(w)], { commandId: randomUUID(), meta: systemMeta('c') });
            done++;
          } catch (err) {
            if (!(err instanceof ConcurrencyError)) throw err;
            conflicts++;
          }
        }
      }),
    );
    const events = await store.readStream(stream);
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: writers * appendsPerWriter * 3 }, (_, i) => i + 1));
    // each commit's three events come from one writer: nothing interleaved, nothing partial
    for (let i = 0; i < events.length; i += 3) expect(new Set(events.slice(i, i + 3).map(nOf)).size).toBe(1);
    expect(conflicts).toBeGreaterThan(0);
  });

  it('does not append a retried command id twice and returns the first commit', async () => {
    const stream = `counter-${randomUUID()}`;
    const commandId = randomUUID();
    const first = await store.append(stream, 0, [ev(1)], { commandId, meta: systemMeta(commandId), reply: { ok: 1 } });
    const again = await store.append(stream, 1, [ev(1)], { commandId, meta: systemMeta(commandId) });
    const stale = await store.append(stream, 0, [ev(1)], { commandId, meta: systemMeta(commandId) });
    expect(first.status).toBe('appended');
    expect(again).toEqual({ status: 'duplicate', commit: first.commit });
    expect(stale.status).toBe('duplicate');
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('handleCommand decides on the latest state and keeps an invariant under concurrent commands', async () => {
    // at most 3 seats: 10 concurrent "take a seat" commands must leave exactly 3 taken
    type S = { taken: number };
    const decider: Decider<S, { who: string }> = {
      initialState: { taken: 0 },
      evolve: (s: S, e: DomainEvent) => (e.type === 'seat.taken' ? { taken: s.taken + 1 } : s),
      decide: (c, s) => (s.taken >= 3 ? [] : [{ type: 'seat.taken', version: 1, data: { who: c.who } }]),
    };
    const stream = `seats-${randomUUID()}`;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        handleCommand({ ...decider, store, streamId: stream, command: { who: `u${i}` }, meta: systemMeta(randomUUID()), retries: 20 }),
      ),
    );
    expect(await store.readStream(stream)).toHaveLength(3);
  });

  it('handleCommand with a command id it has seen returns the first outcome and appends nothing', async () => {
    const decider: Decider<number, object> = {
      initialState: 0,
      evolve: (s) => s + 1,
      decide: () => [ev(1)],
    };
    const stream = `counter-${randomUUID()}`;
    const meta = systemMeta(randomUUID());
    const a = await handleCommand({ ...decider, store, streamId: stream, command: {}, meta });
    const b = await handleCommand({ ...decider, store, streamId: stream, command: {}, meta });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(b.commit?._id).toBe(a.commit?._id);
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('a copy of a command that lands while another copy runs gets the first outcome, not a refusal', async () => {
    // "create once": refuses when the stream has events. Copy A is slow: its load only returns once copy B
    // has appended. A must then find B's commit by the command id instead of refusing on B's state.
    const decider: Decider<number, object> = {
      initialState: 0,
      evolve: (s) => s + 1,
      decide: (_c, s) => {
        if (s > 0) throw new Error('already created');
        return [ev(1)];
      },
    };
    const stream = `created-${randomUUID()}`;
    const meta = systemMeta(randomUUID());
    let bDone!: () => void;
    const bAppended = new Promise<void>((r) => (bDone = r));
    const slowStore: EventStore = {
      ...store,
      load: async (...args: Parameters<EventStore['load']>) => {
        await bAppended;
        return store.load(...args);
      },
    } as EventStore;
    const a = handleCommand({ ...decider, store: slowStore, streamId: stream, command: {}, meta });
    await new Promise((r) => setTimeout(r, 50)); // A is in its load
    const b = await handleCommand({ ...decider, store, streamId: stream, command: {}, meta });
    bDone();
    const resultA = await a;
    expect(b.duplicate).toBe(false);
    expect(resultA).toMatchObject({ duplicate: true });
    expect(resultA.commit?._id).toBe(b.commit?._id);
    expect(await store.readStream(stream)).toHaveLength(1);
  });
});

describe('reservations', () => {
  let mongo: MongoClient;
  beforeAll(async () => (mongo = await testMongo()));
  afterAll(() => mongo.close());

  it('gives a value to one owner at a time, and back after release', async () => {
    const r = createReservations(mongo.db(testDatabaseName('reservations')));
    const value = `name-${randomUUID()}`;
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((o) => r.claim('username', value, o)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = ['a', 'b', 'c', 'd'][results.indexOf(true)];
    expect(await r.claim('username', value, winner)).toBe(true);
    await r.release('username', value, 'someone-else');
    expect(await r.ownerOf('username', value)).toBe(winner);
    await r.release('username', value, winner);
    expect(await r.claim('username', value, 'z')).toBe(true);
  });

  it('lets a stale unconfirmed claim be taken over, but never a confirmed one', async () => {
    const r = createReservations(mongo.db(testDatabaseName('reservations')), 50);
    const a = `v-${randomUUID()}`;
    const b = `v-${randomUUID()}`;
    await r.claim('email', a, 'crashed');
    await r.claim('email', b, 'alive');
    await r.confirm('email', b, 'alive');
    await new Promise((res) => setTimeout(res, 80));
    expect(await r.claim('email', a, 'new')).toBe(true);
    expect(await r.claim('email', b, 'new')).toBe(false);
  });
});
