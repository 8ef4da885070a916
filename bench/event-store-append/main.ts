/**
 * bench/event-store-append: events per second of `store.append` next to the raw MongoDB driver writing the
 * same documents, in the same run, so the ratio shows what the store itself costs.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/event-store-append/main.ts [seconds=1]
 *
 * Scenarios: 1 and 8 concurrent writers, 1 and 10 events per commit; every writer appends to its own streams
 * (a new stream every 20 commits). Each event is a `user.screen-name-changed` with a small payload: with its
 * envelope (ids, stream, time, metadata) about 480 bytes as JSON, 500 as BSON (printed). The baseline is
 * the driver's `insertOne` of a commit-shaped document of the same size (holding the same 1 or 10 events)
 * into a collection with the same indexes. Store and raw alternate in
 * rounds of `seconds` (six rounds each, after a warm-up) so drift of the server affects both alike; the
 * ratio is the median of the six rounds' ratios, and their range is printed too. The outbox relay is off
 * for these figures. Then, the same way, 1 writer with the outbox relay publishing to NATS JetStream right
 * after each append vs the store alone (1 and 10 events per commit); a relay round lasts until JetStream has
 * acked its events and the relay has stored the streams' published positions.
 *
 * BENCH_APPEND_PART=relay runs the relay figures only (half the time; for comparing two versions of the relay in turns).
 *
 * Uses MONGO_URL / NATS_URL when set, otherwise starts FerretDB and nats-server on free ports; writes to
 * fresh databases `bench_append_<random>_<figure>` and drops them afterwards.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { BSON, MongoClient, type Collection, type Db } from 'mongodb';
import type { CommandMeta, NewEvent } from '@app/contracts';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';

const COMMITS_PER_STREAM = 20;
const ROUNDS = 6;

const meta = (): CommandMeta => {
  const commandId = randomUUID();
  return { commandId, actor: { id: 'system' }, correlationId: commandId, medium: 'api', timestamp: new Date().toISOString() };
};

const newEvents = (userId: string, n: number): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    type: 'user.screen-name-changed',
    version: 1,
    data: { userId, name: `User ${i}`, previousName: `User ${i - 1}` },
  }));

/** Per writer: its current stream and version, a new stream every COMMITS_PER_STREAM commits. */
class WriterStreams {
  userId = randomUUID();
  version = 0;
  next(perCommit: number): { streamId: string; expected: number; userId: string } {
    if (this.version >= COMMITS_PER_STREAM * perCommit) {
      this.userId = randomUUID();
      this.version = 0;
    }
    const expected = this.version;
    this.version += perCommit;
    return { streamId: `user-${this.userId}`, expected, userId: this.userId };
  }
}

/** `writers` loops calling `op` for `seconds`; returns events per second. */
async function measure(writers: number, seconds: number, op: (w: number) => Promise<number>): Promise<{ events: number; ms: number }> {
  let events = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (Date.now() < deadline) events += await op(w);
    }),
  );
  return { events, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

async function main() {
  const seconds = Number(process.argv[2] ?? 1);
  const prefix = `bench${randomBytes(3).toString('hex')}.`;
  const { createEventStore, createOutboxRelay, unpublishedCommits } = await import('../../libs/event-store/src');
  const { connectNats, ensureStreams } = await import('../../libs/messaging/src/jetstream');
  const { eventsStreamName, deadLetterStreamName, subjectNaming } = await import('../../libs/contracts/src');
  const naming = subjectNaming(prefix);

  const began = Date.now();
  const infra = await provideTestInfrastructure();
  const mongo = await new MongoClient(infra.mongoUrl).connect();
  const nc = await connectNats(infra.natsUrl, 'bench-append');
  // a fresh database for every figure (FerretDB gets slower as a collection grows), all dropped at the end
  const run = `bench_append_${randomBytes(4).toString('hex')}`;
  const databases: Db[] = [];
  const freshDb = (tag: string) => databases[databases.push(mongo.db(`${run}_${tag}`)) - 1];
  try {
    const rows: string[] = [];
    let eventBytes = 0;
    let eventJson = 0;
    const ratios: number[] = [];
    const noisy: string[] = [];
    for (const writers of process.env.BENCH_APPEND_PART === 'relay' ? [] : [1, 8]) {
      for (const perCommit of [1, 10]) {
        const db = freshDb(`w${writers}_e${perCommit}`);
        const store = createEventStore(db, { service: 'identity' });
        await store.ensureIndexes();
        // the baseline collection has the same indexes as the commits collection
        const raw: Collection = db.collection('raw_commits');
        for (const ix of await store.commits.listIndexes().toArray())
          if (ix.name !== '_id_') await raw.createIndex(ix.key, { name: ix.name, unique: !!ix.unique });
        const streams = Array.from({ length: writers }, () => new WriterStreams());
        const appendOp = async (w: number) => {
          const { streamId, expected, userId } = streams[w].next(perCommit);
          await store.append(streamId, expected, newEvents(userId, perCommit), { commandId: randomUUID(), meta: meta() });
          return perCommit;
        };
        // a commit exactly as the store writes it, reused with new ids for the raw inserts
        const sample = (await store.append(`user-${randomUUID()}`, 0, newEvents(randomUUID(), perCommit), { commandId: randomUUID(), meta: meta() })).commit;
        eventBytes = BSON.calculateObjectSize(sample.events[0]);
        eventJson = JSON.stringify(sample.events[0]).length;
        const rawStreams = Array.from({ length: writers }, () => new WriterStreams());
        const rawOp = async (w: number) => {
          const { streamId, expected } = rawStreams[w].next(perCommit);
          await raw.insertOne({
            ...sample,
            _id: `${streamId}@${expected + 1}`,
            streamId,
            fromVersion: expected + 1,
            toVersion: expected + perCommit,
            commandId: randomUUID(),
            committedAt: new Date(),
          } as never);
          return perCommit;
        };

        await measure(writers, 0.5, appendOp);
        await measure(writers, 0.5, rawOp);
        // store and raw alternate; the ratio is the median of the rounds' ratios (robust to a noisy round)
        const total = { store: { events: 0, ms: 0 }, raw: { events: 0, ms: 0 } };
        const roundRatios: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          const st = await measure(writers, seconds, appendOp);
          const rw = await measure(writers, seconds, rawOp);
          for (const [t, m] of [
            [total.store, st],
            [total.raw, rw],
          ] as const) {
            t.events += m.events;
            t.ms += m.ms;
          }
          roundRatios.push(st.events / st.ms / (rw.events / rw.ms));
        }
        roundRatios.sort((a, b) => a - b);
        const ratio = (roundRatios[(ROUNDS - 1) >> 1] + roundRatios[ROUNDS >> 1]) / 2;
        const storeRate = (total.store.events / total.store.ms) * 1000;
        const rawRate = (total.raw.events / total.raw.ms) * 1000;
        ratios.push(ratio);
        if (roundRatios[ROUNDS - 1] > 2 * roundRatios[0]) noisy.push(`${writers}x${perCommit}`);
        rows.push(
          `${String(writers).padStart(7)}${String(perCommit).padStart(14)}${storeRate.toFixed(0).padStart(15)}${rawRate.toFixed(0).padStart(13)}${ratio.toFixed(2).padStart(8)}` +
            `${`${roundRatios[0].toFixed(2)}-${roundRatios[ROUNDS - 1].toFixed(2)}`.padStart(14)}`,
        );
      }
    }

    // the outbox relay on vs the store alone: 1 writer, 1 and 10 events per commit, alternating rounds as
    // above. A relay round lasts until JetStream has acked every event appended in it and the positions are
    // stored, so a relay that falls behind shows in its figure. A publish that fails (e.g. FerretDB
    // reporting SQLITE_BUSY) is left to the sweep, which runs at the end.
    await ensureStreams(nc, naming);
    let publishFailures = 0;
    let relayedEvents = 0;
    const relayRows: string[] = [];
    const relayRatios: number[] = [];
    const unpublishedCounts: Array<() => Promise<number>> = [];
    const relays: Array<ReturnType<typeof createOutboxRelay>> = [];
    /** how long each relay round's final flush took (the acks still pending and the positions' write) */
    const flushMs: number[] = [];
    for (const perCommit of [1, 10]) {
      const alone = createEventStore(freshDb(`alone_e${perCommit}`), { service: 'identity' });
      let relay: ReturnType<typeof createOutboxRelay> | undefined;
      const relayed = createEventStore(freshDb(`relay_e${perCommit}`), { service: 'identity', onAppended: (c) => relay?.onAppended(c) });
      await alone.ensureIndexes();
      await relayed.ensureIndexes();
      relay = createOutboxRelay({
        commits: relayed.commits,
        js: nc.jetstream(),
        naming,
        service: 'identity',
        sweepGraceMs: 0,
        logger: { warn: () => publishFailures++ },
      });
      relays.push(relay);
      unpublishedCounts.push(() => unpublishedCommits(relayed.commits));
      const appendTo = (store: typeof alone, streams: WriterStreams) => async () => {
        const { streamId, expected, userId } = streams.next(perCommit);
        await store.append(streamId, expected, newEvents(userId, perCommit), { commandId: randomUUID(), meta: meta() });
        if (store === relayed) relayedEvents += perCommit;
        return perCommit;
      };
      const aloneOp = appendTo(alone, new WriterStreams());
      const relayOp = appendTo(relayed, new WriterStreams());
      const relayRound = async (secs: number) => {
        const start = process.hrtime.bigint();
        const m = await measure(1, secs, relayOp);
        const flushFrom = process.hrtime.bigint();
        await relay!.flush();
        flushMs.push(Number(process.hrtime.bigint() - flushFrom) / 1e6);
        return { events: m.events, ms: Number(process.hrtime.bigint() - start) / 1e6 };
      };
      await measure(1, 0.5, aloneOp);
      await relayRound(0.5);
      const total = { alone: { events: 0, ms: 0 }, relay: { events: 0, ms: 0 } };
      const roundRatios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const st = await measure(1, seconds, aloneOp);
        const rl = await relayRound(seconds);
        for (const [t, m] of [
          [total.alone, st],
          [total.relay, rl],
        ] as const) {
          t.events += m.events;
          t.ms += m.ms;
        }
        roundRatios.push(rl.events / rl.ms / (st.events / st.ms));
      }
      roundRatios.sort((a, b) => a - b);
      const ratio = (roundRatios[(ROUNDS - 1) >> 1] + roundRatios[ROUNDS >> 1]) / 2;
      relayRatios.push(ratio);
      relayRows.push(
        `${String(perCommit).padStart(14)}${((total.alone.events / total.alone.ms) * 1000).toFixed(0).padStart(15)}` +
          `${((total.relay.events / total.relay.ms) * 1000).toFixed(0).padStart(15)}${ratio.toFixed(2).padStart(8)}` +
          `${`${roundRatios[0].toFixed(2)}-${roundRatios[ROUNDS - 1].toFixed(2)}`.padStart(14)}`,
      );
    }
    for (const relay of relays)
      for (let i = 0; i < 5; i++) {
        const left = await relay.sweep().catch(() => 1);
        if (left === 0) break;
      }
    let unpublished = 0;
    for (const count of unpublishedCounts) unpublished += await count();
    const inStream = (await (await nc.jetstreamManager()).streams.info(eventsStreamName(naming))).state.messages;

    process.stdout.write(
      `\nbench/event-store-append: ${ROUNDS} rounds of ${seconds}s per figure${rows.length ? `, event ${eventJson} bytes as JSON, ${eventBytes} as BSON` : ', relay part only'}; ${infra.description}\n\n`,
    );
    if (rows.length) {
      process.stdout.write(
        `${'writers'.padStart(7)}${'events/commit'.padStart(14)}${'store ev/s'.padStart(15)}${'raw ev/s'.padStart(13)}${'ratio'.padStart(8)}${'round ratios'.padStart(14)}\n`,
      );
      for (const row of rows) process.stdout.write(`${row}\n`);
      const worst = Math.min(...ratios);
      process.stdout.write(`\nworst ratio store/raw ${worst.toFixed(2)} (target >= 0.80: ${worst >= 0.8 ? 'met' : 'NOT met'})\n`);
    }
    if (noisy.length)
      process.stdout.write(
        `rounds disagree by more than 2x for ${noisy.join(', ')}: those ratios measure the server's lock waits more than the store ` +
          `(FerretDB/SQLite takes one writer at a time); rerun with more seconds or against MongoDB (MONGO_URL)\n`,
      );
    process.stdout.write(`\noutbox relay on vs the store alone (1 writer; a relay round lasts until its events are acked and their positions stored)\n`);
    process.stdout.write(
      `${'events/commit'.padStart(14)}${'alone ev/s'.padStart(15)}${'relay on ev/s'.padStart(15)}${'ratio'.padStart(8)}${'round ratios'.padStart(14)}\n`,
    );
    for (const row of relayRows) process.stdout.write(`${row}\n`);
    const worstRelay = Math.min(...relayRatios);
    process.stdout.write(
      `worst ratio relay on/store alone ${worstRelay.toFixed(2)} (target >= 0.80: ${worstRelay >= 0.8 ? 'met' : 'NOT met'}); ` +
        `${inStream} of ${relayedEvents} events in JetStream, ${unpublished} commits unpublished, ${publishFailures} publishes left to the sweep\n`,
    );
    const sortedFlush = [...flushMs].sort((a, b) => a - b);
    process.stdout.write(
      `each relay round's final flush (acks pending, positions written): median ${sortedFlush[sortedFlush.length >> 1]?.toFixed(1)} ms, max ${sortedFlush[sortedFlush.length - 1]?.toFixed(1)} ms\n`,
    );
    process.stdout.write(`total run ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
    for (const relay of relays) await relay.stop();
  } finally {
    const jsm = await nc.jetstreamManager();
    for (const name of [eventsStreamName(naming), deadLetterStreamName(naming)]) await jsm.streams.delete(name).catch(() => false);
    await nc.drain().catch(() => undefined);
    for (const db of databases) await db.dropDatabase().catch(() => undefined);
    await mongo.close();
    await infra.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
