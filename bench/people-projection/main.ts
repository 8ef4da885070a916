/**
 * bench/people-projection: events/s of membership's people projection (`startPeopleProjection`, as the service
 * runs it: JetStream consumer, checkpoint, the read model's writes) over the events `bench/gateway`'s seeding
 * causes — an organization, N users created by identity and added as members, 20 custom roles, 50 groups of
 * 20 members, 100 projects, a custom role bound to every 5th member — then the latency of one role change alone
 * (a `role.assigned` published, until the checkpoint has it). MongoDB commands are counted on the projection's
 * own client (command monitoring), so they are the projection's only.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/people-projection/main.ts [people=1000] [singles=30]
 *
 * Uses MONGO_URL / NATS_URL when set, else FerretDB (.tools/bin) and nats-server on free ports.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { JSONCodec, connect } from 'nats';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';
import { percentile } from '../lib/http-load';

async function main() {
  const people = Number(process.argv[2] ?? 1000);
  const singles = Number(process.argv[3] ?? 30);
  const prefix = `bench${randomBytes(3).toString('hex')}.`;
  let stop = async () => undefined as unknown;
  if (!process.env.MONGO_URL || !process.env.NATS_URL) {
    const infra = await provideTestInfrastructure();
    process.env.MONGO_URL = infra.mongoUrl;
    process.env.NATS_URL = infra.natsUrl;
    stop = infra.stop;
  }
  const { builtInRoleId, evtSubject, eventsStreamName, subjectNaming } = await import('@app/contracts');
  const naming = subjectNaming(prefix);
  const { ensureStreams } = await import('@app/messaging');
  const { startPeopleProjection, PEOPLE_PROJECTION } = await import('../../apps/membership/src/people/people.projection');

  let commands = 0;
  const mongo = await MongoClient.connect(process.env.MONGO_URL, { monitorCommands: true });
  mongo.on('commandStarted', () => commands++);
  const dbName = `bench_people_projection_${randomBytes(3).toString('hex')}`;
  const db = mongo.db(dbName);
  // this bench's own reads (the checkpoint polls) on a client that is not counted
  const probe = await MongoClient.connect(process.env.MONGO_URL);
  const nc = await connect({ servers: process.env.NATS_URL.split(',') });
  await ensureStreams(nc, naming);
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const codec = JSONCodec();
  const org = randomUUID();
  const meta = { actor: { id: 'system' }, correlationId: 'bench', causationId: 'bench', medium: 'system' };
  let last = 0;
  const publish = async (service: string, type: string, data: Record<string, unknown>, scoped = true) => {
    const event = {
      id: randomUUID(),
      type,
      version: 1,
      streamId: `bench-${service}`,
      streamVersion: 1,
      service,
      occurredAt: new Date().toISOString(),
      ...(scoped ? { organizationId: org } : {}),
      data: scoped ? { organizationId: org, ...data } : data,
      metadata: meta,
    };
    last = (await js.publish(naming.subject(evtSubject(service as 'membership', type, 1)), codec.encode(event))).seq;
  };

  const member = builtInRoleId(org, 'member');
  const userIds = Array.from({ length: people }, () => randomUUID());
  const roleIds = Array.from({ length: 20 }, () => randomUUID());
  await publish('membership', 'organization.created', { name: 'Bench', slug: 'bench', ownerId: userIds[0] });
  for (const [i, roleId] of roleIds.entries())
    await publish('authorization', 'role.created', { roleId, name: `Role ${i}`, description: '', scope: 'organization', permissions: ['organization.view'] });
  for (const [i, userId] of userIds.entries()) {
    await publish('identity', 'user.created', { userId, username: `p${i}`, email: `p${i}@bench.example.com`, name: `Person ${i}` }, false);
    await publish('membership', 'organization.member-added', { userId, username: `p${i}`, roleId: member, via: 'account' });
  }
  for (let g = 0; g < 50; g++)
    await publish('membership', 'group.created', {
      groupId: randomUUID(),
      name: `Group ${g}`,
      description: '',
      memberIds: userIds.slice((g * 20) % people, ((g * 20) % people) + 20),
      roleId: member,
    });
  for (let p = 0; p < 100; p++) await publish('membership', 'project.created', { projectId: randomUUID(), name: `Project ${p}`, ownerId: userIds[p % people] });
  for (let i = 0; i < people; i += 5)
    await publish('membership', 'role.assigned', {
      subjectType: 'user',
      subjectId: userIds[i],
      projectId: null,
      roleId: roleIds[i % 20],
      roleName: `Role ${i % 20}`,
      previousRoleId: member,
    });
  const seeded = last;

  const checkpoint = async () =>
    (await probe.db(dbName).collection<{ _id: string; sequence: number }>('projection_checkpoints').findOne({ _id: PEOPLE_PROJECTION }))?.sequence ?? 0;
  const untilApplied = async (seq: number) => {
    while ((await checkpoint()) < seq) await new Promise((r) => setTimeout(r, 10));
  };
  const logger = { warn: () => undefined, error: (o: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`), info: () => undefined };
  const infra = { db, js, jsm, naming, logger, deadLetters: { inc: () => undefined }, onClose: [] as Array<() => Promise<unknown>> };
  commands = 0;
  const t0 = Date.now();
  await startPeopleProjection(infra as never);
  await untilApplied(seeded);
  const seedMs = Date.now() - t0;
  const seedCommands = commands;

  const times: number[] = [];
  const sorted = () => [...times].sort((a, b) => a - b);
  commands = 0;
  for (let i = 0; i < singles; i++) {
    const t = Date.now();
    await publish('membership', 'role.assigned', {
      subjectType: 'user',
      subjectId: userIds[(i * 7) % people],
      projectId: null,
      roleId: roleIds[i % 20],
      roleName: `Role ${i % 20}`,
      previousRoleId: member,
    });
    await untilApplied(last);
    times.push(Date.now() - t);
  }
  const singleCommands = commands;

  const out = (s: string) => process.stdout.write(`${s}\n`);
  const info = await db.command({ buildInfo: 1 });
  out(`bench/people-projection: ${people} people; ${'ferretdb' in info || 'ferretdbVersion' in info ? 'FerretDB' : 'MongoDB'} ${String(info.version)}`);
  out(
    `seeding: ${seeded} events applied in ${(seedMs / 1000).toFixed(1)} s = ${((seeded * 1000) / seedMs).toFixed(0)} events/s, ${(seedCommands / seeded).toFixed(2)} Mongo commands/event`,
  );
  out(
    `one role change at a time (${singles}): p50 ${percentile(sorted(), 50)} ms, p99 ${percentile(sorted(), 99)} ms, ~${(singleCommands / singles).toFixed(1)} Mongo commands per event`,
  );
  for (const close of infra.onClose) await close();
  await db.dropDatabase().catch(() => undefined);
  await jsm.streams.delete(eventsStreamName(naming)).catch(() => undefined);
  await mongo.close();
  await probe.close();
  await nc.close();
  await stop();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
