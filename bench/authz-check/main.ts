/**
 * bench/authz: permission checks.
 *
 *   npm run bench:authz [-- seconds=2]
 *
 * 1. In process: checks per second of the in-memory index (OrgAccess.check, one permission, random user,
 *    project and permission) for a large organization — 10,000 users, 1,000 groups (each user in 3),
 *    100 custom roles, 1,000 projects (each user bound in 5 of them, each group in 2) — and for a small one
 *    (100 users, 10 groups, 10 custom roles, 10 projects). The ratio small/large should stay near 1: a check
 *    costs O(roles of the user), not O(organization). For contrast, the same checks by a naive evaluator that
 *    scans the organization's bindings (what the index replaces).
 * 2. Over NATS: p50/p99 of `qry.authorization.check` request/reply against a running authorization service
 *    holding the large organization (sequential requests, then 16 concurrent), including the consistency
 *    wait (stream last sequence look-up) that every check does.
 *
 * Uses MONGO_URL / NATS_URL when set, otherwise starts FerretDB and nats-server on free ports (as the tests).
 * Writes to a fresh NATS namespace and database and removes them at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { JSONCodec, headers } from 'nats';
import { MongoClient } from 'mongodb';
import { percentile } from '../lib/http-load';
import {
  AuthorizationSubjects,
  BUILT_IN_ROLES,
  PERMISSIONS,
  builtInRoleId,
  catalogueEvent,
  eventsStreamName,
  evtSubject,
  deadLetterStreamName,
  subjectNaming,
  systemMeta,
  type DomainEvent,
} from '@app/contracts';

const seconds = Number(process.argv.find((a) => a.startsWith('seconds='))?.split('=')[1] ?? 2);
const naming = subjectNaming(`bench${randomBytes(3).toString('hex')}.`);

interface Shape {
  users: number;
  groups: number;
  roles: number;
  projects: number;
}
const LARGE: Shape = { users: 10_000, groups: 1_000, roles: 100, projects: 1_000 };
const SMALL: Shape = { users: 100, groups: 10, roles: 10, projects: 10 };

let rng = 42;
const rand = (n: number) => {
  rng = (rng * 1103515245 + 12345) & 0x7fffffff;
  return rng % n;
};

/** The events of one organization of the given shape, as membership and authorization publish them. */
function organizationEvents(shape: Shape) {
  const orgId = randomUUID();
  const users = Array.from({ length: shape.users }, () => randomUUID());
  const groups = Array.from({ length: shape.groups }, () => randomUUID());
  const projects = Array.from({ length: shape.projects }, () => randomUUID());
  const roles = Array.from({ length: shape.roles }, () => randomUUID());
  const events: DomainEvent[] = [];
  const versions = { m: 0, a: 0 };
  const push = (service: 'membership' | 'authorization', type: string, data: Record<string, unknown>) =>
    events.push({
      id: randomUUID(),
      type,
      version: 1,
      streamId: service === 'membership' ? `organization-${orgId}` : `access-${orgId}`,
      streamVersion: service === 'membership' ? ++versions.m : ++versions.a,
      service,
      occurredAt: new Date().toISOString(),
      organizationId: orgId,
      data: { organizationId: orgId, ...data },
      metadata: { actor: { id: 'system' }, correlationId: 'bench', causationId: 'bench', medium: 'system' },
    });
  const r = (key: (typeof BUILT_IN_ROLES)[number]['key']) => builtInRoleId(orgId, key);
  push('membership', 'organization.created', { name: 'Bench', slug: 'bench', ownerId: users[0] });
  users.forEach((userId, i) =>
    push('membership', 'organization.member-added', {
      userId,
      username: `user${i}`,
      roleId: r(i === 0 ? 'owner' : i % 50 === 0 ? 'admin' : 'member'),
      via: 'invite',
    }),
  );
  const orgPerms = PERMISSIONS.filter((p) => p.scope === 'organization').map((p) => p.name);
  const projectPerms = PERMISSIONS.filter((p) => p.scope === 'project').map((p) => p.name);
  roles.forEach((roleId, i) => {
    const scope = i % 2 ? 'project' : 'organization';
    const pool = scope === 'project' ? projectPerms : orgPerms;
    push('authorization', 'role.created', { roleId, name: `Role ${i}`, description: '', scope, permissions: pool.filter(() => rand(3) === 0) });
  });
  groups.forEach((groupId, i) => push('membership', 'group.created', { groupId, name: `Group ${i}`, description: '', memberIds: [], roleId: r('member') }));
  users.forEach((userId) => {
    for (let k = 0; k < 3; k++) push('membership', 'group.member-added', { groupId: groups[rand(groups.length)], groupName: 'g', userId });
  });
  projects.forEach((projectId, i) => push('membership', 'project.created', { projectId, name: `Project ${i}`, ownerId: users[rand(users.length)] }));
  const projectRole = () => (rand(2) ? roles[2 * rand(roles.length / 2) + 1] : r(rand(2) ? 'project-reader' : 'project-contributor'));
  const bind = (subjectType: 'user' | 'group', subjectId: string, projectId: string | null, roleId: string) =>
    push('membership', 'role.assigned', { subjectType, subjectId, projectId, roleId, roleName: 'r', previousRoleId: null });
  const boundProjects = new Map<string, string[]>();
  users.forEach((userId) => {
    for (let k = 0; k < 5; k++) {
      const projectId = projects[rand(projects.length)];
      boundProjects.set(userId, [...(boundProjects.get(userId) ?? []), projectId]);
      bind('user', userId, projectId, projectRole());
    }
    if (rand(10) === 0) bind('user', userId, null, roles[2 * rand(roles.length / 2)]);
  });
  groups.forEach((groupId) => {
    bind('group', groupId, null, roles[2 * rand(roles.length / 2)]);
    for (let k = 0; k < 2; k++) bind('group', groupId, projects[rand(projects.length)], projectRole());
  });
  return { orgId, users, projects, events, boundProjects };
}

type Org = ReturnType<typeof organizationEvents>;

function queries(org: Org, n: number) {
  // the same mix in every organization: a third organization-level, a third in a project the user is bound
  // in, a third in any project (mostly not theirs in a large organization)
  return Array.from({ length: n }, () => {
    const userId = org.users[rand(org.users.length)];
    const kind = rand(3);
    const own = org.boundProjects.get(userId)!;
    const projectId = kind === 0 ? null : kind === 1 ? own[rand(own.length)] : org.projects[rand(org.projects.length)];
    return { userId, projectId, permission: PERMISSIONS[rand(PERMISSIONS.length)].name };
  });
}

/** Runs `op` over the queries for `secs`; returns operations per second. */
function perSecond(qs: ReturnType<typeof queries>, secs: number, op: (q: (typeof qs)[number]) => boolean): number {
  let done = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + secs * 1000;
  while (Date.now() < deadline) {
    for (let i = 0; i < 1000; i++) if (op(qs[(done + i) % qs.length])) sink++;
    done += 1000;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (sink < 0) console.log(sink);
  return (done / ms) * 1000;
}

/** The evaluation the index replaces: scan every binding of the organization for each check. */
function naiveEvaluator(org: Org) {
  const members = new Set<string>();
  const groupsOf = new Map<string, Set<string>>();
  const byTarget = new Map<string, { subject: string; projectId: string | null; roleId: string }>();
  const perms = new Map<string, string[]>(BUILT_IN_ROLES.map((d) => [builtInRoleId(org.orgId, d.key), [...d.permissions]]));
  const projects = new Set<string>();
  const set = (subject: string, projectId: string | null, roleId: string) => byTarget.set(`${subject}|${projectId}`, { subject, projectId, roleId });
  for (const e of org.events) {
    const d = e.data as Record<string, string>;
    if (e.type === 'organization.member-added') {
      members.add(d.userId);
      set(d.userId, null, d.roleId);
    } else if (e.type === 'group.created') set(d.groupId, null, d.roleId);
    else if (e.type === 'group.member-added') groupsOf.set(d.userId, (groupsOf.get(d.userId) ?? new Set()).add(d.groupId));
    else if (e.type === 'project.created') {
      projects.add(d.projectId);
      set(d.ownerId, d.projectId, builtInRoleId(org.orgId, 'project-admin'));
    } else if (e.type === 'role.created') perms.set(d.roleId, d.permissions as unknown as string[]);
    else if (e.type === 'role.assigned') set(d.subjectId, d.projectId, d.roleId);
  }
  const bindings = [...byTarget.values()];
  const everywhere = new Set([builtInRoleId(org.orgId, 'owner'), builtInRoleId(org.orgId, 'admin')]);
  const projectAdmin = perms.get(builtInRoleId(org.orgId, 'project-admin'))!;
  return (q: { userId: string; projectId: string | null; permission: string }) => {
    if (!members.has(q.userId) || (q.projectId && !projects.has(q.projectId))) return false;
    const subjects = groupsOf.get(q.userId) ?? new Set<string>();
    const project = q.permission.startsWith('project.');
    return bindings.some((b) => {
      if (b.subject !== q.userId && !subjects.has(b.subject)) return false;
      if (!project) return b.projectId === null && perms.get(b.roleId)!.includes(q.permission);
      if (!q.projectId) return false;
      if (b.projectId === q.projectId) return perms.get(b.roleId)!.includes(q.permission);
      return b.projectId === null && everywhere.has(b.roleId) && projectAdmin.includes(q.permission);
    });
  };
}

/**
 * The baseline the issue names: node-casbin, RBAC with domains, on the same data. Domains are the
 * organization (`org`) and each project (`org/project`); a link holds only in its own domain, so a user's
 * group membership is linked in the organization and in each project where the group has a role, and
 * Owner/Admin → project Admin is linked in the organization domain. A project permission is allowed when
 * the project domain or the organization domain allows it.
 */
async function casbinEvaluator(org: Org) {
  const { newEnforcer, newModelFromString } = await import('casbin');
  const model = newModelFromString(`
[request_definition]
r = sub, dom, perm
[policy_definition]
p = role, perm
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.role, r.dom) && r.perm == p.perm
`);
  const e = await newEnforcer(model);
  const perms = new Map<string, string[]>(BUILT_IN_ROLES.map((d) => [builtInRoleId(org.orgId, d.key), [...d.permissions]]));
  const links = new Map<string, [string, string, string]>();
  const domain = (projectId: string | null) => (projectId ? `${org.orgId}/${projectId}` : org.orgId);
  const bind = (subject: string, projectId: string | null, roleId: string) => links.set(`${subject}|${projectId}`, [subject, roleId, domain(projectId)]);
  const members = new Map<string, string[]>();
  for (const ev of org.events) {
    const d = ev.data as Record<string, string>;
    if (ev.type === 'organization.member-added') bind(d.userId, null, d.roleId);
    else if (ev.type === 'group.created') bind(d.groupId, null, d.roleId);
    else if (ev.type === 'group.member-added') members.set(d.groupId, [...(members.get(d.groupId) ?? []), d.userId]);
    else if (ev.type === 'project.created') bind(d.ownerId, d.projectId, builtInRoleId(org.orgId, 'project-admin'));
    else if (ev.type === 'role.created') perms.set(d.roleId, d.permissions as unknown as string[]);
    else if (ev.type === 'role.assigned') bind(d.subjectId, d.projectId, d.roleId);
  }
  const rules: string[][] = [...links.values()];
  for (const [subject, , dom] of links.values()) for (const userId of members.get(subject) ?? []) rules.push([userId, subject, dom]);
  const projectAdmin = builtInRoleId(org.orgId, 'project-admin');
  rules.push([builtInRoleId(org.orgId, 'owner'), projectAdmin, org.orgId], [builtInRoleId(org.orgId, 'admin'), projectAdmin, org.orgId]);
  // load everything, then build the role links once
  e.enableAutoBuildRoleLinks(false);
  const m = e.getModel();
  // straight into the assertions: Model.addPolicy looks for a duplicate first, quadratic over 100,000 rules
  const gPolicy = m.model.get('g')!.get('g')!.policy;
  for (const r of rules) gPolicy.push(r);
  const pPolicy = m.model.get('p')!.get('p')!.policy;
  for (const [roleId, ps] of perms) for (const perm of ps) pPolicy.push([roleId, perm]);
  await e.buildRoleLinks();
  return (q: { userId: string; projectId: string | null; permission: string }) =>
    q.permission.startsWith('project.')
      ? q.projectId !== null && (e.enforceSync(q.userId, domain(q.projectId), q.permission) || e.enforceSync(q.userId, org.orgId, q.permission))
      : e.enforceSync(q.userId, org.orgId, q.permission);
}

async function main() {
  const { OrgAccess } = await import('@app/access-model');
  const { AuthorizationModule } = await import('../../apps/authorization/src/authorization.module');
  const { loadConfig, startService } = await import('@app/platform');
  const { provideTestInfrastructure } = await import('../../libs/testing/src/infra');

  console.log('building organizations…');
  const large = organizationEvents(LARGE);
  const small = organizationEvents(SMALL);
  const index = (org: Org) => {
    const idx = new OrgAccess(org.orgId);
    for (const e of org.events) idx.apply(catalogueEvent(e));
    return idx;
  };
  const tBuild = process.hrtime.bigint();
  const largeIndex = index(large);
  const buildMs = Number(process.hrtime.bigint() - tBuild) / 1e6;
  const smallIndex = index(small);
  const lq = queries(large, 100_000);
  const sq = queries(small, 100_000);
  const one = (idx: InstanceType<typeof OrgAccess>) => (q: (typeof lq)[number]) => idx.check(q.userId, q.projectId, [q.permission]).allowed[q.permission];
  perSecond(lq, 0.5, one(largeIndex)); // warm-up
  perSecond(sq, 0.5, one(smallIndex));
  const largeRate = perSecond(lq, seconds, one(largeIndex));
  const smallRate = perSecond(sq, seconds, one(smallIndex));
  // both agree with the naive evaluator on a sample
  const naive = naiveEvaluator(large);
  const disagreements = lq.slice(0, 2000).filter((q) => naive(q) !== one(largeIndex)(q)).length;
  const naiveRate = perSecond(lq, Math.min(seconds, 1), naive);
  console.log(
    `\nin-process checks (1 permission each); the large organization's index is built from ${large.events.length} events in ${buildMs.toFixed(0)} ms`,
  );
  console.log(`  large org (10,000 users, 1,000 groups, 100 custom roles, 1,000 projects): ${Math.round(largeRate).toLocaleString('en')} checks/s`);
  console.log(`  small org (100 users, 10 groups, 10 custom roles, 10 projects):          ${Math.round(smallRate).toLocaleString('en')} checks/s`);
  console.log(`  ratio small/large: ${(smallRate / largeRate).toFixed(2)} (near 1: independent of the organization's size)`);
  console.log(
    `  naive scan of the bindings, large org: ${Math.round(naiveRate).toLocaleString('en')} checks/s (index is ${(largeRate / naiveRate).toFixed(0)}x faster); disagreements on 2,000 checks: ${disagreements}`,
  );
  console.log('  node-casbin: loading the large organization…');
  const tCasbin = process.hrtime.bigint();
  const casbin = await casbinEvaluator(large);
  const casbinBuildMs = Number(process.hrtime.bigint() - tCasbin) / 1e6;
  // casbin is slow here: its rate is measured op by op (perSecond checks the clock every 1,000 ops)
  const casbinSample = lq.slice(0, 200);
  const casbinDisagreements = casbinSample.filter((q) => casbin(q) !== naive(q)).length;
  let casbinDone = 0;
  const casbinStart = process.hrtime.bigint();
  for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; casbinDone++) casbin(lq[casbinDone % lq.length]);
  const casbinRate = (casbinDone / (Number(process.hrtime.bigint() - casbinStart) / 1e6)) * 1000;
  console.log(
    `  node-casbin (RBAC with domains, same data, model loaded in ${casbinBuildMs.toFixed(0)} ms), large org: ${Math.round(casbinRate).toLocaleString('en')} checks/s; index/casbin ratio ${(largeRate / casbinRate).toFixed(0)}x (target >= 10x); disagreements on 200 checks: ${casbinDisagreements}`,
  );

  // ---------------------------------------------------------------------------------------- over NATS
  const infra = await provideTestInfrastructure();
  const db = `bench_authz_${randomBytes(3).toString('hex')}`;
  const service = await startService(
    loadConfig('authorization', {
      MONGO_URL: infra.mongoUrl,
      NATS_URL: infra.natsUrl,
      MONGO_DB: db,
      NATS_SUBJECT_PREFIX: naming.prefix,
      LOG_LEVEL: 'warn',
    }),
    AuthorizationModule.register(),
  );
  const nc = service.infra.nc;
  const js = service.infra.js;
  const codec = JSONCodec();
  try {
    const t0 = Date.now();
    for (let i = 0; i < large.events.length; i += 500)
      await Promise.all(
        large.events.slice(i, i + 500).map((e) => {
          const h = headers();
          h.set('Correlation-Id', 'bench');
          return js.publish(naming.subject(evtSubject(e.service as 'membership', e.type, e.version)), codec.encode(e), { msgID: e.id, headers: h });
        }),
      );
    const published = Date.now() - t0;
    const { ACCESS_VIEW } = await import('../../apps/authorization/src/access/access.tokens');
    const view = service.app.get(ACCESS_VIEW);
    const t1 = Date.now();
    await view.catchUp();
    console.log(`\nover NATS: ${large.events.length} events published in ${published} ms, view caught up ${Date.now() - t1} ms later`);

    const subject = AuthorizationSubjects.check();
    const ask = async (q: (typeof lq)[number]) => {
      const t = process.hrtime.bigint();
      const body = { organizationId: large.orgId, userId: q.userId, projectId: q.projectId, permissions: [q.permission] };
      await nc.request(subject, codec.encode({ pattern: subject, id: randomUUID(), data: { meta: systemMeta(randomUUID()), body } }), { timeout: 5000 });
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const pct = (xs: number[], p: number) =>
      percentile(
        xs.sort((a, b) => a - b),
        p,
      );
    for (let i = 0; i < 200; i++) await ask(lq[i]);
    const sequential: number[] = [];
    for (let i = 0; i < 2000; i++) sequential.push(await ask(lq[i]));
    console.log(`  sequential (2,000 checks): p50 ${pct(sequential, 50).toFixed(2)} ms, p99 ${pct(sequential, 99).toFixed(2)} ms`);
    const concurrent: number[] = [];
    const start = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 4000) concurrent.push(await ask(lq[next++]));
      }),
    );
    const rate = (4000 / (Date.now() - start)) * 1000;
    console.log(
      `  16 concurrent (4,000 checks): p50 ${pct(concurrent, 50).toFixed(2)} ms, p99 ${pct(concurrent, 99).toFixed(2)} ms, ${Math.round(rate)} checks/s`,
    );
  } finally {
    const jsm = service.infra.jsm;
    await service.close();
    const { connect } = await import('nats');
    const nc2 = await connect({ servers: infra.natsUrl });
    const jsm2 = await nc2.jetstreamManager();
    for (const s of [eventsStreamName(naming), deadLetterStreamName(naming)]) await jsm2.streams.delete(s).catch(() => false);
    void jsm;
    await nc2.close();
    const mongo = await new MongoClient(infra.mongoUrl).connect();
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
