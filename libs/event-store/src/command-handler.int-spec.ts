import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { ErrorCode, systemMeta, type CommandMeta } from '@app/contracts';
import { testDatabaseName, testMongo } from '@app/testing';
import { createEventStore, type EventStore } from './event-store';
import { handleCommand, type CommandResult, type Loaded, type RunCommand } from './command-handler';
import type { CommitDocument } from './commit';

/** A counter: the state is the number of events; `add` appends one event, refused past `max`. */
type Add = { max: number };
const ev = (n: number) => ({ type: 'counter.incremented', version: 1, data: { n } });
const evolve = (s: number) => s + 1;

describe('handleCommand, the one command runner, with each plug-in (real database)', () => {
  let mongo: MongoClient;
  let db: Db;
  let store: EventStore;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('command_runner'));
    store = createEventStore(db, { service: 'identity', validate: false });
    await store.ensureIndexes();
  });
  afterAll(() => mongo.close());

  /** A command on a fresh counter stream, with a log of what the runner called. */
  function counter(streamId = `counter-${randomUUID()}`, meta: CommandMeta = systemMeta(randomUUID())) {
    const calls = { decidedOn: [] as number[], inputs: 0, after: [] as CommandResult<number, { n: number }>[] };
    const run: RunCommand<number, Add, string, { n: number }> = {
      store,
      streamId,
      command: { max: 10 },
      meta,
      initialState: 0,
      evolve,
      decide: (c, s, _meta, input) => {
        expect(input).toBe('fetched');
        calls.decidedOn.push(s);
        return s >= c.max ? [] : [ev(s + 1)];
      },
      input: async () => {
        calls.inputs++;
        return 'fetched';
      },
      reply: (events, s) => ({ n: s + events.length }),
      afterCommit: async (result) => void calls.after.push(result),
      backoffMs: 1,
    };
    return { run, calls, streamId, meta };
  }
  const other = (streamId: string, version: number) =>
    store.append(streamId, version, [ev(version + 1)], { commandId: randomUUID(), meta: systemMeta('other') });

  it('load: a stale load (a cache behind the stream) conflicts at append and the command is decided again on a fresh load, with its input fetched again', async () => {
    const { run, calls, streamId } = counter();
    await other(streamId, 0);
    await other(streamId, 1);
    let loads = 0;
    // a cache that still has the stream at version 1: the first decision appends at 2, which is taken
    const load = async (): Promise<Loaded<number>> => (loads++ === 0 ? { state: 1, version: 1 } : store.load(streamId, evolve, 0));
    const result = await handleCommand({ ...run, load });
    expect(loads).toBe(2);
    expect(calls.decidedOn).toEqual([1, 2]);
    expect(calls.inputs).toBe(2);
    expect(result).toMatchObject({ state: 3, version: 3, duplicate: false, reply: { n: 3 } });
    expect(await store.readStream(streamId)).toHaveLength(3);
    expect(calls.after).toHaveLength(1);
    expect(calls.after[0].commit?.toVersion).toBe(3);
  });

  it('ready: a state already past the version loaded (a live view) is loaded again before deciding', async () => {
    const { run, calls, streamId } = counter();
    let readies = 0;
    const result = await handleCommand({ ...run, ready: async () => readies++ > 0 });
    expect(readies).toBe(2);
    expect(calls.decidedOn).toEqual([0]);
    expect(result).toMatchObject({ version: 1, duplicate: false });
    expect(await store.readStream(streamId)).toHaveLength(1);
  });

  it('findEarlier: a repeated command id is answered with its first reply from the plugged-in look-up; nothing is decided or appended, the after-commit hook sees the first commit', async () => {
    const { run, calls, streamId, meta } = counter();
    // a look-up of its own (as membership's applied_commands): written by the after-commit hook, read by `findEarlier`
    const applied = new Map<string, CommitDocument>();
    let storeLookUps = 0;
    const counted: EventStore = {
      ...store,
      findByCommand: (id: string) => {
        storeLookUps++;
        return store.findByCommand(id);
      },
    };
    const plugged: typeof run = {
      ...run,
      store: counted,
      findEarlier: async (id) => applied.get(id) ?? null,
      afterCommit: async (result) => {
        if (!result.duplicate) applied.set(meta.commandId, result.commit);
        await run.afterCommit!(result, { state: result.state, version: result.version });
      },
    };
    const first = await handleCommand(plugged);
    const again = await handleCommand(plugged);
    expect(first).toMatchObject({ duplicate: false, reply: { n: 1 }, version: 1 });
    expect(again).toMatchObject({ duplicate: true, reply: { n: 1 }, version: 1, events: [] });
    expect(again.commit?._id).toBe(first.commit?._id);
    expect(calls.decidedOn).toEqual([0]);
    expect(storeLookUps).toBe(0);
    expect(await store.readStream(streamId)).toHaveLength(1);
    expect(calls.after.map((r) => r.duplicate)).toEqual([false, true]);
  });

  it('afterCommit: called once for a command that appends, not at all for one that changes nothing', async () => {
    const { run, calls, streamId } = counter();
    await handleCommand(run);
    expect(calls.after).toHaveLength(1);
    const nothing = await handleCommand({ ...run, command: { max: 1 }, meta: systemMeta(randomUUID()) });
    expect(nothing).toMatchObject({ events: [], duplicate: false, version: 1 });
    expect(nothing.commit).toBeUndefined();
    expect(calls.after).toHaveLength(1);
    expect(await store.readStream(streamId)).toHaveLength(1);
  });

  it('retries: a conflict on every attempt ends in CONCURRENT_MODIFICATION after `retries` decisions more, with nothing appended', async () => {
    const { run, calls, streamId } = counter();
    await other(streamId, 0);
    let loads = 0;
    const stale = async (): Promise<Loaded<number>> => (loads++, { state: 0, version: 0 });
    await expect(handleCommand({ ...run, load: stale, retries: 3, conflictMessage: 'the counter was changed concurrently' })).rejects.toMatchObject({
      code: ErrorCode.CONCURRENT_MODIFICATION,
      message: 'the counter was changed concurrently',
    });
    expect(loads).toBe(4);
    expect(calls.decidedOn).toEqual([0, 0, 0, 0]);
    expect(calls.after).toHaveLength(0);
    expect(await store.readStream(streamId)).toHaveLength(1);
  });
});
