/**
 * bench/authz-startup: start-up time of the authorization service (from `startService` to "view caught up")
 * with 100,000 and 1,000,000 events in the stream, replaying everything vs starting from a snapshot.
 *
 *   npm run bench:authz-startup [-- sizes=100000,1000000] [tail=1000]
 *
 * The history is one large organization (10,000 users, 1,000 groups with 3 groups per user, 100 custom roles,
 * 1,000 projects with 5 project bindings per user: about 97,000 events), then churn that changes the view
 * without growing it (project roles rebound, people leaving and re-joining groups, custom roles edited), so
 * the view is the same size at every history length. For each length N:
 *
 *   1. publish events up to N - tail (async publishes straight into JetStream);
 *   2. start a service without snapshots (full replay, informative), take a snapshot of its view
 *      (`view.snapshot()`, the synchronous copy, timed) and write it (`snapshotStore.write`, timed), stop it;
 *   3. publish `tail` more events (N in all);
 *   4. start a service without snapshots: full replay of N events (the baseline);
 *   5. start a service with snapshots, three times (median shown): the newest snapshot + the tail. It must
 *      have consumed `tail` events and hold exactly the view of the full replay. Then, in process, the
 *      snapshot's own part of that: reading, checking and decoding it and restoring the view; and reading
 *      the tail from the stream with an ordered consumer.
 *
 * Uses MONGO_URL / NATS_URL when set, otherwise starts FerretDB and nats-server on free ports (as the tests).
 * Writes to a fresh NATS namespace and database and removes them at the end.
 */
import { randomBytes } from 'node:crypto';
import { JSONCodec, type JetStreamClient } from 'nats';
import { MongoClient } from 'mongodb';
import { PERMISSIONS, deadLetterStreamName, eventsStreamName, evtSubject, subjectNaming, type DomainEvent, type ServiceName } from '@app/contracts';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? dflt;
const SIZES = arg('sizes', '100000,1000000').split(',').map(Number);
const TAIL = Number(arg('tail', '1000'));
const naming = subjectNaming(`bench${randomBytes(3).toString('hex')}.`);

let rng = 7;
const rand = (n: number) => {
  rng = (rng * 1103515245 + 12345) & 0x7fffffff;
  return rng % n;
};
const uuid = (kind: number, i: number) => `00000000-0000-4000-8${kind}00-${String(i).padStart(12, '0')}`;

async function main() {
  const { orgHistory } = await import('../../libs/testing/src/org-history');
  const { AuthorizationModule } = await import('../../apps/authorization/src/authorization.module');
  const { ACCESS_VIEW } = await import('../../apps/authorization/src/access/access.tokens');
  const { snapshotStore } = await import('../../apps/authorization/src/view/view-snapshot');
  const { AccessView } = await import('../../apps/authorization/src/view/access-view');
  type View = InstanceType<typeof AccessView>;
  const { loadConfig, startService } = await import('@app/platform');
  const { provideTestInfrastructure } = await import('../../libs/testing/src/infra');
  const { connectNats, ensureStreams } = await import('@app/messaging');

  // ------------------------------------------------------------------------------------------ the history
  const h = orgHistory(uuid(9, 1));
  const users = Array.from({ length: 10_000 }, (_, i) => uuid(1, i));
  const groups = Array.from({ length: 1_000 }, (_, i) => uuid(2, i));
  const projects = Array.from({ length: 1_000 }, (_, i) => uuid(3, i));
  const roles = Array.from({ length: 100 }, (_, i) => uuid(4, i)); // even: organization, odd: project
  const scope = (i: number) => (i % 2 ? 'project' : 'organization');
  const somePerms = (i: number) => PERMISSIONS.filter((p) => p.scope === scope(i) && rand(3) === 0).map((p) => p.name);
  const projectRole = () => (rand(2) ? roles[2 * rand(50) + 1] : h.role(rand(2) ? 'project-reader' : 'project-contributor'));
  const groupsOf = users.map(() => [] as number[]);
  const boundIn = users.map(() => [] as string[]);

  h.created(users[0]);
  users.slice(1).forEach((u, i) => h.memberAdded(u, i % 50 === 0 ? 'admin' : 'member', `user${i + 1}`));
  roles.forEach((r, i) => h.roleCreated(r, scope(i), somePerms(i)));
  groups.forEach((g) => h.groupCreated(g, []));
  users.forEach((u, i) => {
    for (let k = 0; k < 3; k++) {
      const g = rand(groups.length);
      if (groupsOf[i].includes(g)) continue;
      groupsOf[i].push(g);
      h.groupMemberAdded(groups[g], u);
    }
  });
  projects.forEach((p) => h.projectCreated(p, users[rand(users.length)]));
  users.forEach((u, i) => {
    for (let k = 0; k < 5; k++) {
      const p = projects[rand(projects.length)];
      boundIn[i].push(p);
      h.assigned('user', u, projectRole(), p);
    }
    if (rand(10) === 0) h.assigned('user', u, roles[2 * rand(50)]);
  });
  groups.forEach((g) => {
    h.assigned('group', g, roles[2 * rand(50)]);
    for (let k = 0; k < 2; k++) h.assigned('group', g, projectRole(), projects[rand(projects.length)]);
  });
  const baseEvents = h.events.length;
  /** one step of churn: the view changes, its size does not */
  const churn = () => {
    const kind = rand(10);
    const i = rand(users.length);
    if (kind < 5) h.assigned('user', users[i], projectRole(), boundIn[i][rand(boundIn[i].length)]);
    else if (kind < 9 && groupsOf[i].length) {
      const g = groups[groupsOf[i][rand(groupsOf[i].length)]];
      h.groupMemberRemoved(g, users[i]);
      h.groupMemberAdded(g, users[i]);
    } else {
      const r = rand(roles.length);
      h.roleChanged(roles[r], scope(r), somePerms(r));
    }
  };

  // ------------------------------------------------------------------------------------------ publishing
  const codec = JSONCodec<DomainEvent>();
  let published = 0;
  let publishMs = 0;
  /** Publishes the history up to `n` events, 2,000 async publishes in flight. */
  async function publishUpTo(js: JetStreamClient, n: number) {
    const t = Date.now();
    while (published < n) {
      while (h.events.length < Math.min(2_000, n - published)) churn();
      const batch = h.events.splice(0, Math.min(2_000, n - published));
      await Promise.all(batch.map((e) => js.publish(naming.subject(evtSubject(e.service as ServiceName, e.type, e.version)), codec.encode(e))));
      published += batch.length;
    }
    publishMs += Date.now() - t;
  }

  const infra = await provideTestInfrastructure();
  const db = `bench_authz_startup_${randomBytes(3).toString('hex')}`;
  const config = loadConfig('authorization', {
    MONGO_URL: infra.mongoUrl,
    NATS_URL: infra.natsUrl,
    MONGO_DB: db,
    NATS_SUBJECT_PREFIX: naming.prefix,
    LOG_LEVEL: 'warn',
  });
  const start = async (snapshots: boolean) => {
    const t = process.hrtime.bigint();
    const service = await startService(config, AuthorizationModule.register(snapshots ? {} : { snapshots: false }));
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    return { service, view: service.app.get<View>(ACCESS_VIEW), ms };
  };
  const nc = await connectNats(infra.natsUrl, 'bench');
  await ensureStreams(nc, naming);
  const js = nc.jetstream();
  const mongo = await new MongoClient(infra.mongoUrl).connect();
  const store = snapshotStore(mongo.db(db));

  const emptyStarts: number[] = [];
  for (let k = 0; k < 3; k++) {
    const empty = await start(false);
    emptyStarts.push(empty.ms);
    await empty.service.close();
  }
  console.log(`start-up with an empty stream (connections, indexes, Nest; median of 3): ${emptyStarts.sort((a, b) => a - b)[1].toFixed(0)} ms`);
  console.log(
    `one organization of 10,000 users, 1,000 groups, 100 custom roles, 1,000 projects (${baseEvents.toLocaleString('en')} events), then churn; ${TAIL.toLocaleString('en')} events after the snapshot\n`,
  );
  console.log(
    'events in stream | full replay | from snapshot (+tail) | ratio | snapshot: copy (blocking) / encode+write / size | load+restore | tail read | replayed from snapshot | same view',
  );
  try {
    for (const n of SIZES) {
      await publishUpTo(js, n - TAIL);
      const writer = await start(false);
      const t0 = process.hrtime.bigint();
      const snapshot = writer.view.snapshot();
      const copyMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const info = await writer.service.infra.jsm.streams.info(eventsStreamName(naming));
      const t1 = Date.now();
      const head = (await store.write(snapshot, { name: eventsStreamName(naming), created: info.created }))!;
      const writeMs = Date.now() - t1;
      await writer.service.close();

      await publishUpTo(js, n);
      const full = await start(false);
      const fullView = JSON.stringify(full.view.snapshot());
      await full.service.close();
      // three starts from the snapshot (the median is shown: the machine is shared), then the snapshot's own part
      const starts: number[] = [];
      let same = true;
      let consumed = 0;
      for (let k = 0; k < 3; k++) {
        const fromSnapshot = await start(true);
        starts.push(fromSnapshot.ms);
        same &&= JSON.stringify(fromSnapshot.view.snapshot()) === fullView;
        consumed = fromSnapshot.view.consumed;
        await fromSnapshot.service.close();
      }
      const fromSnapshotMs = starts.sort((a, b) => a - b)[1];
      const t2 = Date.now();
      new AccessView().restore((await store.load({ name: eventsStreamName(naming), created: info.created }, n))!.snapshot);
      const loadMs = Date.now() - t2;
      // and reading the tail from the stream (an ordered consumer from the snapshot's sequence + 1)
      const t3 = Date.now();
      const tail = await (await js.consumers.get(eventsStreamName(naming), { opt_start_seq: n - TAIL + 1 })).consume();
      for await (const m of tail) if (m.info.streamSequence >= n) break;
      const tailMs = Date.now() - t3;
      console.log(
        `${n.toLocaleString('en').padStart(16)} | ${`${full.ms.toFixed(0)} ms`.padStart(11)} | ${`${fromSnapshotMs.toFixed(0)} ms`.padStart(21)} | ${(full.ms / fromSnapshotMs).toFixed(1).padStart(5)} | ` +
          `${copyMs.toFixed(0)} ms / ${writeMs} ms / ${(head.bytes / 1e6).toFixed(1)} MB in ${head.chunks} chunk(s) | ${`${loadMs} ms`.padStart(12)} | ${`${tailMs} ms`.padStart(9)} | ${consumed.toLocaleString('en').padStart(22)} | ${same ? 'yes' : 'NO'}`,
      );
      if (!same || consumed !== TAIL) process.exitCode = 1;
    }
    console.log(`\n(${published.toLocaleString('en')} events published in ${(publishMs / 1000).toFixed(0)} s)`);
  } finally {
    const jsm = await nc.jetstreamManager();
    for (const s of [eventsStreamName(naming), deadLetterStreamName(naming)]) await jsm.streams.delete(s).catch(() => false);
    await nc.close();
    await mongo
      .db(db)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
    await infra.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
