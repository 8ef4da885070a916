import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { DomainError, ErrorCode, systemMeta, type CommandMeta } from '@app/contracts';
import { requireInfraEnv, testDatabaseName, testMongo } from '@app/testing';
import { createEventStore, type EventStore } from './event-store';
import { handleCommand, handleCommandBatch, type CommandResult, type Loaded, type RunBatch, type RunCommand } from './command-handler';
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

  describe('handleCommandBatch (group commit)', () => {
    /** `add`: appends one event; refused (VALIDATION_FAILED) once the counter is at `max` */
    const refusing = (c: Add, s: number) => {
      if (s >= c.max) throw new DomainError(ErrorCode.VALIDATION_FAILED, `the counter is at ${c.max}`);
      return [ev(s + 1)];
    };
    function batch(streamId: string, maxes: number[], on: EventStore = store) {
      const decidedOn: number[] = [];
      const after: Array<{ appended: number; committed?: number }> = [];
      const run: RunBatch<number, Add, undefined, { n: number }> = {
        store: on,
        streamId,
        commands: maxes.map((max) => ({ command: { max }, meta: systemMeta(randomUUID()), reply: (events, s) => ({ n: s + events.length }) })),
        decide: (c, s) => (decidedOn.push(s), refusing(c, s)),
        evolve,
        copy: (s) => s,
        load: () => on.load(streamId, evolve, 0),
        afterCommit: async (done) => void after.push({ appended: done.appended.length, committed: done.committed?.version }),
        backoffMs: 1,
      };
      return { run, decidedOn, after };
    }

    it('decides the commands one after another on the state the earlier ones leave and appends them in one insert, each with its own commit, command id and reply; a refused one changes nothing for the others', async () => {
      const counted = await new MongoClient(requireInfraEnv().mongoUrl, { monitorCommands: true }).connect();
      try {
        const inserts: string[] = [];
        counted.on('commandStarted', (e) => e.commandName === 'insert' && inserts.push(String(e.command.insert)));
        const countedStore = createEventStore(counted.db(db.databaseName), { service: 'identity', validate: false });
        const streamId = `counter-${randomUUID()}`;
        // the second command is refused on the state the first leaves (1 ≥ max 1); the third and fourth follow the first
        const { run, decidedOn, after } = batch(streamId, [10, 1, 10, 10], countedStore);
        const outcomes = await handleCommandBatch(run);
        expect(outcomes.map((o) => (o.ok ? o.result.reply : (o.error as DomainError).code))).toEqual([
          { n: 1 },
          ErrorCode.VALIDATION_FAILED,
          { n: 2 },
          { n: 3 },
        ]);
        expect(decidedOn).toEqual([0, 1, 1, 2]);
        expect(inserts).toEqual(['event_commits']);
        const commits = await store.commits.find({ streamId }).sort({ fromVersion: 1 }).toArray();
        expect(commits.map((c) => [c.commandId, c.fromVersion, c.reply])).toEqual([
          [run.commands[0].meta.commandId, 1, { n: 1 }],
          [run.commands[2].meta.commandId, 2, { n: 2 }],
          [run.commands[3].meta.commandId, 3, { n: 3 }],
        ]);
        expect(outcomes.map((o) => o.ok && o.result.version)).toEqual([1, false, 2, 3]);
        expect(after).toEqual([{ appended: 3, committed: 3 }]);
      } finally {
        await counted.close();
      }
    });

    it('a command id appended before is answered with its first commit; the others are decided as if it were not in the batch', async () => {
      const streamId = `counter-${randomUUID()}`;
      const { run, decidedOn } = batch(streamId, [10, 10, 10]);
      const first = await store.append(streamId, 0, [ev(1)], { commandId: run.commands[1].meta.commandId, meta: run.commands[1].meta, reply: { n: 1 } });
      const outcomes = await handleCommandBatch(run);
      expect(outcomes.map((o) => o.ok && [o.result.duplicate, o.result.reply])).toEqual([
        [false, { n: 2 }],
        [true, { n: 1 }],
        [false, { n: 3 }],
      ]);
      expect(outcomes[1].ok && outcomes[1].result.commit?._id).toBe(first.commit._id);
      expect(decidedOn).toEqual([1, 2]);
      expect(await store.readStream(streamId)).toHaveLength(3);
    });

    it('lookUpRefusalsOnly: only refusals and no-ops are looked up; a repeated command id decided as an append again meets the unique command-id index and gets its first commit', async () => {
      const streamId = `counter-${randomUUID()}`;
      const { run, decidedOn, after } = batch(streamId, [10, 1, 10]);
      const [a, b] = run.commands.map((c) => c.meta);
      const firstA = await store.append(streamId, 0, [ev(1)], { commandId: a.commandId, meta: a, reply: { n: 1 } });
      const firstB = await store.append(streamId, 1, [ev(2)], { commandId: b.commandId, meta: b, reply: { n: 2 } });
      const looked: string[] = [];
      const findEarlier = (commandId: string) => (looked.push(commandId), store.findByCommand(commandId));
      const outcomes = await handleCommandBatch({ ...run, findEarlier, lookUpRefusalsOnly: true });
      // first attempt: a → @3 (its id is at @1: the insert stops there), b refused (found: its first commit), c → @4 (after the stop)
      // second attempt: b refused again and found, c → @3
      expect(decidedOn).toEqual([2, 3, 3, 2, 2]);
      expect(looked).toEqual([b.commandId, b.commandId]);
      expect(outcomes.map((o) => o.ok && [o.result.duplicate, o.result.commit?._id, o.result.reply])).toEqual([
        [true, firstA.commit._id, { n: 1 }],
        [true, firstB.commit._id, { n: 2 }],
        [false, `${streamId}@3`, { n: 3 }],
      ]);
      expect(after).toEqual([{ appended: 0 }, { appended: 1, committed: 3 }]);
      expect(await store.readStream(streamId)).toHaveLength(3);
    });

    it('a position taken in the middle of the batch: the commits before it stand, the commands from it on (refusals too) are decided again on a fresh load', async () => {
      const streamId = `counter-${randomUUID()}`;
      // the batch's second commit goes to position 2, which another writer takes first
      await other(streamId, 1);
      const { run, decidedOn, after } = batch(streamId, [10, 10, 2, 10]);
      let loads = 0;
      const load = async (): Promise<Loaded<number>> => (loads++ === 0 ? { state: 0, version: 0 } : store.load(streamId, evolve, 0));
      const outcomes = await handleCommandBatch({ ...run, load });
      // first attempt: 0 → @1 (stands), 1 → @2 (taken), refused at 2, 2 → @3: only the first is final
      // second attempt on the fresh load (our @1 and the other @2): 2 → @3, refused at 3 (max 2), 3 → @4
      expect(decidedOn).toEqual([0, 1, 2, 2, 2, 3, 3]);
      expect(outcomes.map((o) => (o.ok ? o.result.reply : (o.error as DomainError).code))).toEqual([{ n: 1 }, { n: 3 }, ErrorCode.VALIDATION_FAILED, { n: 4 }]);
      expect(after).toEqual([{ appended: 1 }, { appended: 2, committed: 4 }]);
      expect(await store.readStream(streamId)).toHaveLength(4);
    });

    it('retries: conflicts on every attempt end in CONCURRENT_MODIFICATION for the commands not decided yet, nothing appended for them', async () => {
      const streamId = `counter-${randomUUID()}`;
      await other(streamId, 0);
      const { run } = batch(streamId, [10, 10]);
      const outcomes = await handleCommandBatch({ ...run, load: async () => ({ state: 0, version: 0 }), retries: 2 });
      expect(outcomes.map((o) => !o.ok && (o.error as DomainError).code)).toEqual([ErrorCode.CONCURRENT_MODIFICATION, ErrorCode.CONCURRENT_MODIFICATION]);
      expect(await store.readStream(streamId)).toHaveLength(1);
    });
  });
});
