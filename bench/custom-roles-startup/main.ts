/**
 * bench/custom-roles-startup: start-up of membership's custom-roles view (until it has applied the whole events
 * stream) with 100,000 and 1,000,000 events, replaying everything vs starting from a snapshot 1,000 events
 * behind the end (docs/membership.md "Custom roles view: snapshots").
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/custom-roles-startup/main.ts [sizes=100000,1000000]
 *
 * The stream: 200 custom roles in 20 organizations created, then edited again and again (every 50th event a
 * role event), the rest events of other subjects that the view skips undecoded (as most of a real stream).
 * FerretDB and nats-server started on free ports (or MONGO_URL / NATS_URL).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { JSONCodec, type JetStreamClient } from 'nats';
import { MongoClient } from 'mongodb';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? dflt;
const SIZES = arg('sizes', '100000,1000000').split(',').map(Number);
const TAIL = 1000;
const PREFIX = `bench${randomBytes(3).toString('hex')}.`;

async function main() {
  const { eventsStreamName, evtSubject, subjectNaming } = await import('@app/contracts');
  const naming = subjectNaming(PREFIX);
  const { provideTestInfrastructure } = await import('../../libs/testing/src/infra');
  const { connectNats, ensureStreams } = await import('@app/messaging');
  const { startCustomRolesView } = await import('../../apps/membership/src/organization/custom-roles');
  const { customRolesSnapshotStore, snapshotOf } = await import('../../apps/membership/src/organization/custom-roles-snapshot');
  const { applyRoleEvent } = await import('../../apps/membership/src/organization/custom-roles');

  const infra = await provideTestInfrastructure();
  const mongo = await MongoClient.connect(infra.mongoUrl);
  const db = mongo.db(`bench_custom_roles_${randomBytes(3).toString('hex')}`);
  const nc = await connectNats(infra.natsUrl, 'bench');
  await ensureStreams(nc, naming);
  const js: JetStreamClient = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const codec = JSONCodec();
  const orgs = Array.from({ length: 20 }, () => randomUUID());
  const roleIds = Array.from({ length: 200 }, () => randomUUID());
  const model = new Map();
  let published = 0;

  const eventAt = (i: number) => {
    if (i % 50 === 0) {
      const r = (i / 50) % roleIds.length;
      const org = orgs[r % orgs.length];
      const first = i / 50 < roleIds.length;
      const data = {
        organizationId: org,
        roleId: roleIds[r],
        name: `Role ${r}`,
        description: `v${i}`,
        scope: 'organization',
        permissions: ['organization.view'],
      };
      const type = first ? 'role.created' : 'role.changed';
      const event = {
        id: randomUUID(),
        type,
        version: 1,
        streamId: `access-${org}`,
        streamVersion: i,
        service: 'authorization',
        occurredAt: new Date().toISOString(),
        organizationId: org,
        data: first ? data : { ...data, previousName: `Role ${r}` },
        metadata: { actor: { id: 'system', username: 'system' }, correlationId: `c${i}`, causationId: `c${i}`, medium: 'system' },
      };
      return { subject: naming.subject(evtSubject('authorization', type, 1)), event };
    }
    return { subject: naming.subject(evtSubject('identity', 'user.profile-changed', 1)), event: { id: randomUUID(), type: 'user.profile-changed', noise: i } };
  };
  async function publishUpTo(n: number) {
    while (published < n) {
      const batch = Array.from({ length: Math.min(2000, n - published) }, (_, k) => eventAt(published + k + 1));
      await Promise.all(batch.map((b) => js.publish(b.subject, codec.encode(b.event), { msgID: (b.event as { id: string }).id })));
      for (const b of batch) if (b.subject.includes('.role.')) applyRoleEvent(model, b.event as never);
      published += batch.length;
    }
  }
  const timeStart = async (snapshots: boolean) => {
    const began = Date.now();
    const view = await startCustomRolesView({ js, jsm, naming, snapshots: snapshots ? { store: customRolesSnapshotStore(db), everyEvents: 1e12 } : undefined });
    const roles = await view.current(orgs[0], 600_000);
    const ms = Date.now() - began;
    const same =
      JSON.stringify(roles?.sort((a, b) => a.id.localeCompare(b.id))) ===
      JSON.stringify([...(model.get(orgs[0])?.values() ?? [])].sort((a, b) => a.id.localeCompare(b.id)));
    await view.stop();
    if (!same)
      process.stdout.write(
        `  differs: view ${JSON.stringify(roles).slice(0, 300)} model ${JSON.stringify([...(model.get(orgs[0])?.values() ?? [])]).slice(0, 300)}\n`,
      );
    return { ms, from: view.startedFrom, same };
  };

  const rows: string[] = [];
  for (const size of SIZES) {
    await publishUpTo(size - TAIL);
    const last = (await jsm.streams.info(eventsStreamName(naming))).state.last_seq;
    const stream = await jsm.streams.info(eventsStreamName(naming));
    await customRolesSnapshotStore(db).write(snapshotOf(model, last), { name: stream.config.name, created: stream.created });
    await publishUpTo(size);
    const replay = await timeStart(false);
    const fromSnapshot = [await timeStart(true), await timeStart(true), await timeStart(true)].sort((a, b) => a.ms - b.ms)[1];
    rows.push(
      `${size.toLocaleString('en')} | ${replay.ms} ms | ${fromSnapshot.ms} ms (from sequence ${fromSnapshot.from}) | ${(replay.ms / fromSnapshot.ms).toFixed(1)} | ${replay.same && fromSnapshot.same ? 'yes' : 'NO'}`,
    );
    process.stdout.write(`${rows[rows.length - 1]}\n`);
  }
  process.stdout.write(`\nevents in stream | full replay | from snapshot + ${TAIL} (median of 3) | ratio | same roles\n${rows.join('\n')}\n`);
  await jsm.streams.delete(eventsStreamName(naming)).catch(() => false);
  await db.dropDatabase();
  await nc.close();
  await mongo.close();
  await infra.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
