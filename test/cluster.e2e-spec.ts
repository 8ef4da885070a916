import { createHash, randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { builtInRoleId, eventsStreamName, kvBucketName, validateEvent } from '@app/contracts';
import { publishedEvents, requireInfraEnv, testDatabaseName, testNaming, testPrefix } from '@app/testing';
import { BOOTSTRAP_EMAIL, BOOTSTRAP_TOKEN, eventually } from './support/system';
import { buildServices, startNatsCluster, startServiceProcess, streamStateByNode, type NatsCluster, type ServiceProcess } from './support/cluster';

/**
 * The scale-out topology (docs/scaling.md "Cluster topology"), as separate processes: a JetStream cluster of
 * three nats-servers (streams and KV buckets with three replicas) and two replicas of every service, the two
 * gateways used alternately. The main flows, then a bounded burst of writes during which one NATS node and
 * one replica of every service are killed with SIGKILL and started again: nothing answered 2xx is lost,
 * nothing retried with its Idempotency-Key is applied twice, and the stream's replicas agree.
 * The slow part of the suite (.ci/run says so): about two minutes on 2 cores.
 */
const SERVICES = ['identity', 'membership', 'authorization', 'audit-log', 'gateway'] as const;
const api = (path: string) => `/api/v1${path}`;
const log = (msg: string) => process.stdout.write(`[cluster] ${msg}\n`);

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

describe('scale-out: a NATS cluster of three and two replicas of every service', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let dist = '';
  let env: Record<string, string> = {};
  const replicas: Record<string, ServiceProcess[]> = {};
  let gateways: string[] = [];
  let turn = 0;
  /** the next gateway, alternately */
  const next = () => gateways[turn++ % gateways.length];

  /**
   * Per caller (bearer token), the consistency tokens its writes were answered with, sent back on its next
   * requests: a client that switches gateways does so for read-your-writes (docs/api.md "Consistency tokens");
   * the gateway that answered a write remembers it by itself, the other one is told.
   */
  const written = new Map<string, string[]>();
  async function call(method: string, path: string, opts: { token?: string; body?: unknown; key?: string; base?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.key) headers['idempotency-key'] = opts.key;
    const mine = written.get(opts.token ?? '') ?? [];
    if (mine.length) headers['consistency-token'] = mine.join(', ');
    const res = await fetch(`${opts.base ?? next()}${api(path)}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    const given = res.headers.get('consistency-token');
    if (given) written.set(opts.token ?? '', [...new Set([...mine, ...given.split(',').map((t) => t.trim())])].slice(-16));
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }
  const admin = { token: BOOTSTRAP_TOKEN };
  /** The admin's idempotency record of `key` as the bucket's leader holds it (for a failure's message). */
  async function idempotencyRecord(key: string): Promise<string> {
    try {
      const me = (await call('GET', '/me', admin)).body.id as string;
      const kv = await nc.jetstream().views.kv(kvBucketName(testNaming(), 'IDEMPOTENCY'), { allow_direct: false });
      const entry = await kv.get(createHash('sha256').update(`${me}\0${key}`).digest('hex'));
      const record = entry && JSON.parse(new TextDecoder().decode(entry.value));
      return JSON.stringify({ revision: entry?.revision, operation: entry?.operation, ...record, body: undefined, now: Date.now() });
    } catch (err) {
      return `unreadable: ${(err as Error).message}`;
    }
  }
  /**
   * A write as a careful client sends it: with an Idempotency-Key, sent again with the same key (up to 10 times)
   * on a 503 (SERVICE_UNAVAILABLE: nothing done; OUTCOME_UNKNOWN: continue it), so that a loaded machine does not
   * fail the flows; the first answer of another status is the answer.
   */
  async function write(method: string, path: string, opts: { token?: string; body?: unknown; base?: string } = {}): Promise<Answer> {
    const key = randomUUID();
    for (let attempt = 1; ; attempt++) {
      const a = await call(method, path, { ...opts, key });
      if (a.status !== 503 || attempt >= 10) return a;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  async function expectStatus(status: number, p: Promise<Answer>): Promise<Answer> {
    const a = await p;
    if (a.status !== status) throw new Error(`expected ${status}, got ${a.status}: ${JSON.stringify(a.body)}`);
    return a;
  }

  beforeAll(async () => {
    const began = Date.now();
    dist = buildServices();
    log(`services compiled in ${Date.now() - began} ms`);
    cluster = await startNatsCluster(3);
    log(`NATS cluster of 3 up at ${Date.now() - began} ms`);
    env = {
      MONGO_URL: requireInfraEnv().mongoUrl,
      NATS_URL: cluster.url,
      NATS_SUBJECT_PREFIX: testPrefix(),
      NATS_STREAM_REPLICAS: '3',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      BOOTSTRAP_ADMIN_EMAIL: BOOTSTRAP_EMAIL,
      BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP_TOKEN,
      CONNECT_TIMEOUT_SECONDS: '60',
      // ten processes and three nats-servers on 2 shared cores: a service's answer can take longer than 5 s
      SERVICE_REQUEST_TIMEOUT_MS: '10000',
      SHUTDOWN_GRACE_SECONDS: '0',
    };
    // both replicas of every service at once: the identity pair races on the bootstrap admin
    for (const replica of [1, 2]) {
      const started = await Promise.allSettled(
        SERVICES.map(async (service) => {
          const p = await startServiceProcess(dist, service, replica, { ...env, MONGO_DB: testDatabaseName(service) });
          (replicas[service] ??= []).push(p);
        }),
      );
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    gateways = replicas.gateway.map((g) => `http://127.0.0.1:${g.port}`);
    log(`10 service processes ready at ${Date.now() - began} ms`);
    nc = await connect({ servers: cluster.url.split(',') });
  }, 240_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all(Object.values(replicas).flatMap((ps) => ps.map((p) => p.stop())));
    await cluster?.stop();
  }, 60_000);

  it('the events stream and the idempotency bucket have three replicas; the bucket has no direct gets', async () => {
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(eventsStreamName(testNaming()))).config.num_replicas).toBe(3);
    const kv = (await jsm.streams.list().next()).find((s) => s.config.name.endsWith('IDEMPOTENCY'));
    expect(kv?.config.num_replicas).toBe(3);
    // its gets are answered by the leader: a follower just restarted may answer a direct get with an old revision
    expect(kv?.config.allow_direct).toBe(false);
    const info = await jsm.streams.info(eventsStreamName(testNaming()));
    expect(info.cluster?.replicas).toHaveLength(2); // the leader and two followers
  });

  it('bootstrap converges on one admin although both identity (and membership) replicas started at once', async () => {
    for (const base of gateways) await expectStatus(200, call('GET', '/me', { ...admin, base }));
    const events = await publishedEvents(nc);
    expect(events.filter((e) => e.type === 'user.created')).toHaveLength(1);
  });

  let org = '';
  const user = { id: '', token: '', username: 'dora' };
  let customRole = '';

  it('accounts, login and forced change, organization, people, groups, custom roles, projects: each write seen by the next request through the other gateway', async () => {
    org = (await expectStatus(201, write('POST', '/organizations', { ...admin, body: { name: 'Cluster Org' } }))).body.id;
    await expectStatus(200, call('GET', `/organizations/${org}`, admin));

    const created = (
      await expectStatus(
        201,
        write('POST', `/organizations/${org}/accounts`, { ...admin, body: { accounts: [{ email: 'dora@example.com', username: 'dora' }] } }),
      )
    ).body.created[0];
    user.id = created.userId;
    const login = await write('POST', '/auth/login', { body: { login: 'dora', password: created.temporaryPassword } });
    expect([login.status, login.body.code]).toEqual([403, 'PASSWORD_CHANGE_REQUIRED']);
    user.token = (
      await expectStatus(
        200,
        write('POST', '/auth/password', { body: { login: 'dora', currentPassword: created.temporaryPassword, newPassword: 'correct horse battery dora' } }),
      )
    ).body.token;
    expect((await expectStatus(200, call('GET', '/me', { token: user.token }))).body.username).toBe('dora');

    const people = (await expectStatus(200, call('GET', `/organizations/${org}/people?search=dora`, admin))).body.items;
    expect(people.map((p: { id: string }) => p.id)).toEqual([user.id]);

    const group = (
      await expectStatus(201, write('POST', `/organizations/${org}/groups`, { ...admin, body: { name: 'Builders', description: '', memberIds: [user.id] } }))
    ).body.id;
    expect((await expectStatus(200, call('GET', `/organizations/${org}/groups/${group}`, admin))).body.memberIds).toEqual([user.id]);

    customRole = (
      await expectStatus(
        201,
        write('POST', `/organizations/${org}/roles`, {
          ...admin,
          body: { name: 'Auditor', description: '', scope: 'organization', permissions: ['organization.audit_logs.view'] },
        }),
      )
    ).body.id;
    await expectStatus(200, write('PUT', `/organizations/${org}/people/${user.id}/role`, { ...admin, body: { roleId: customRole } }));
    const check = await expectStatus(
      200,
      write('POST', `/organizations/${org}/permissions/check`, { ...admin, body: { userId: user.id, permissions: ['organization.audit_logs.view'] } }),
    );
    expect(check.body.allowed).toEqual({ 'organization.audit_logs.view': true });
    await expectStatus(200, call('GET', `/organizations/${org}/audit-logs`, { token: user.token }));

    const project = (await expectStatus(201, write('POST', `/organizations/${org}/projects`, { ...admin, body: { name: 'cluster-project' } }))).body.id;
    await expectStatus(200, call('GET', `/organizations/${org}/projects/${project}`, admin));
    await expectStatus(
      200,
      write('PUT', `/organizations/${org}/projects/${project}/members/${user.id}/role`, {
        ...admin,
        body: { roleId: builtInRoleId(org, 'project-reader'), subjectType: 'user' },
      }),
    );
    // the admin's grant is another caller's write, and adds a permission (a first project role): membership
    // answers it once appended, and it reaches the user's requests once published, within milliseconds
    // (docs/architecture.md "Writes that do not wait on the broker"); the admin itself reads it at once
    await expectStatus(200, call('GET', `/organizations/${org}/projects/${project}/members`, admin));
    await eventually(
      async () => (await call('GET', `/organizations/${org}/projects/${project}/members`, { token: user.token })).status === 200,
      3000,
      "the admin's project role grant in the user's requests",
    );
  });

  it('revocation takes effect on the next request through either gateway', async () => {
    for (const base of gateways) await expectStatus(200, call('GET', `/organizations/${org}/audit-logs`, { token: user.token, base }));
    await expectStatus(200, write('PATCH', `/organizations/${org}/roles/${customRole}`, { ...admin, body: { permissions: [] }, base: gateways[0] }));
    for (const base of [gateways[1], gateways[0]])
      expect((await call('GET', `/organizations/${org}/audit-logs`, { token: user.token, base })).status).toBe(403);
    await expectStatus(204, write('POST', '/auth/logout', { token: user.token, base: gateways[1] }));
    for (const base of gateways) expect((await call('GET', '/me', { token: user.token, base })).status).toBe(401);
  });

  it('one audit entry per change, and every event of the stream keeps the contract', async () => {
    const entries = await eventually(
      async () => {
        const items = (await call('GET', `/organizations/${org}/audit-logs?limit=500`, admin)).body?.items;
        return items?.some((e: { resource: string; operation: string }) => e.resource === 'Role' && e.operation === 'Modified') ? items : undefined;
      },
      20_000,
      'the audit entry of the role change',
    );
    const key = (e: { resource: string; operation: string; resourceId: string }) => `${e.resource} ${e.operation} ${e.resourceId}`;
    const counts = new Map<string, number>();
    for (const e of entries) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
    for (const k of ['Organization Added', 'User Added', 'Group Added', 'Role Added', 'Project Added'])
      expect([...counts].filter(([c]) => c.startsWith(k)).map(([, n]) => n)).toEqual([1]);
    expect(new Set(entries.map((e: { id: string }) => e.id)).size).toBe(entries.length);
    const events = await publishedEvents(nc);
    expect(events.flatMap((e) => validateEvent(e).map((p) => `${e.type}: ${p}`))).toEqual([]);
  });

  it('a burst of writes while one NATS node and one replica of every service are killed (SIGKILL) and restarted: nothing lost, nothing twice', async () => {
    const WRITES = 40;
    const began = Date.now();
    const answered: Array<{ email: string; userId: string; attempts: number; statuses: string[]; busyMs: number }> = [];
    /**
     * like a client behind a load balancer: a refused connection, a 5xx or a 409 on a key still pending is retried
     * on the other gateway with the same key, for up to 180 tries (about 90 s; the key of a request lost with a
     * killed replica was answered 409 for up to a minute before account batches waited like any request).
     * `busyMs`: the longest run of 409s ("still running") to the key, from its first to the next other answer.
     */
    const burstWrite = async (i: number) => {
      const email = `burst${i}@example.com`;
      const key = randomUUID();
      const statuses: string[] = [];
      let busyMs = 0;
      let busySince: number | undefined;
      for (let attempt = 1; attempt <= 180; attempt++) {
        const a = await call('POST', `/organizations/${org}/accounts`, { ...admin, key, body: { accounts: [{ email }] } }).catch(
          () => ({ status: 0 }) as Answer,
        );
        // a 409's detail tells a key still running (the gateway's idempotency lease) from membership's own conflict
        const why = a.status === 409 || a.status >= 500 ? ` (${String(a.body?.detail ?? '').slice(0, 48)})` : '';
        statuses.push(a.status >= 400 ? `${a.status} ${a.body?.code ?? ''}${why}`.trim() : String(a.status));
        if (a.status === 500) log(`write ${i} answered 500: ${JSON.stringify(a.body)}`);
        if (a.status === 409) busySince ??= Date.now();
        else if (busySince !== undefined) [busyMs, busySince] = [Math.max(busyMs, Date.now() - busySince), undefined];
        if (a.status === 201) {
          const userId = a.body.created[0]?.userId ?? a.body.existing[0]?.userId;
          return answered.push({ email, userId, attempts: attempt, statuses, busyMs });
        }
        if (a.status !== 0 && a.status < 500 && a.status !== 409) throw new Error(`write ${i}: ${a.status} ${JSON.stringify(a.body)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const logs = replicas.gateway.map((g) => `${g.name}:\n${g.output().slice(-1500)}`).join('\n');
      throw new Error(`write ${i} never succeeded: ${statuses.join(',')}\nits idempotency record: ${await idempotencyRecord(key)}\n${logs}`);
    };
    const queue = Array.from({ length: WRITES }, (_, i) => i);
    const workers = Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) await burstWrite(i);
      }),
    );
    // awaited below; should the test fail before (a restart), a worker failing later is no unhandled rejection
    workers.catch(() => undefined);

    // the faults, while the writes are in flight: the events stream's leader node and replica 1 of every service
    await eventually(async () => answered.length >= 5, 30_000, 'the first writes');
    const streamState = await streamStateByNode(cluster, eventsStreamName(testNaming()));
    const leaderName = streamState.find((s) => s.cluster?.leader)?.cluster?.leader ?? 'n1';
    const node = cluster.nodes.find((n) => n.name === `nats ${leaderName}`) ?? cluster.nodes[0];
    const victims = SERVICES.map((s) => replicas[s][0]);
    await Promise.all([node.kill9(), ...victims.map((v) => v.kill9())]);
    log(`killed ${node.name} (the EVENTS leader) and ${victims.map((v) => v.name).join(', ')} after ${answered.length} writes`);
    await new Promise((r) => setTimeout(r, 2000));
    await node.restart();
    await Promise.all(victims.map((v) => v.restart()));
    log(`restarted them ${Date.now() - began} ms into the burst`);
    await workers;
    const streak = Math.max(0, ...answered.map((a) => a.statuses.filter((x) => x.startsWith('409')).length));
    const longestBusyMs = Math.max(0, ...answered.map((a) => a.busyMs));
    log(`most 409 answers to one key: ${streak}; the longest run of 409s to one key: ${longestBusyMs} ms`);
    log(
      `burst of ${WRITES} writes done in ${Date.now() - began} ms; retried: ${answered.filter((a) => a.attempts > 1).length} (${answered
        .filter((a) => a.attempts > 1)
        .map((a) => a.statuses.join('→'))
        .join(' ')})`,
    );
    expect(answered).toHaveLength(WRITES);

    // every write answered 2xx is there once: people list, checks, audit log, events
    let lastList: Answer | undefined;
    const people = await eventually(async () => {
      lastList = await call('GET', `/organizations/${org}/people?search=burst&limit=500`, admin);
      const items = lastList.body?.items;
      return items?.length >= WRITES ? items : undefined;
    }, 20_000).catch((err: Error) => {
      // what was missing, and what the services logged: the next failure names its cause
      const listed = new Set((lastList?.body?.items ?? []).map((p: { id: string }) => p.id));
      const missing = answered.filter((a) => !listed.has(a.userId)).map((a) => `${a.email} ${a.userId} (${a.statuses.join('→')})`);
      const logs = [...replicas.membership, ...replicas.gateway].map((p) => `${p.name}:\n${p.output().slice(-3000)}`).join('\n');
      throw new Error(
        `${err.message}: the people list answered ${lastList?.status} ${JSON.stringify(lastList?.body).slice(0, 300)}; missing: ${missing.join(', ')}\n${logs}`,
      );
    });
    const ids = people.map((p: { id: string }) => p.id).sort();
    expect(ids).toEqual(answered.map((a) => a.userId).sort());
    const checked = await call('POST', `/organizations/${org}/permissions/check`, {
      ...admin,
      body: { userId: answered[WRITES - 1].userId, permissions: ['organization.view'] },
    });
    expect(checked.body.allowed).toEqual({ 'organization.view': true });
    for (const a of answered.filter((x) => x.attempts > 1)) {
      const c = await call('POST', `/organizations/${org}/permissions/check`, { ...admin, body: { userId: a.userId, permissions: ['organization.view'] } });
      expect(c.body.allowed).toEqual({ 'organization.view': true });
    }
    const userEntries = await eventually(
      async () => {
        const items = (await call('GET', `/organizations/${org}/audit-logs?resource=User&operation=Added&limit=500`, admin)).body?.items;
        return items?.filter((e: { resourceName: string }) => e.resourceName.startsWith('burst')).length >= WRITES ? items : undefined;
      },
      30_000,
      'the audit entries of the burst',
    );
    const perUser = new Map<string, number>();
    for (const e of userEntries) perUser.set(e.resourceId, (perUser.get(e.resourceId) ?? 0) + 1);
    for (const a of answered) expect([a.email, perUser.get(a.userId)]).toEqual([a.email, 1]);
    const events = await publishedEvents(nc);
    const createdOf = (email: string) => events.filter((e) => e.type === 'user.created' && (e.data as { email?: string }).email === email);
    for (const a of answered) expect([a.email, createdOf(a.email).length]).toEqual([a.email, 1]);

    // the stream's three replicas agree
    const agreed = await eventually(
      async () => {
        const states = await streamStateByNode(cluster, eventsStreamName(testNaming()));
        return states.every((s) => s.lastSeq !== undefined && s.lastSeq === states[0].lastSeq && s.messages === states[0].messages) ? states : undefined;
      },
      30_000,
      'the three replicas of the events stream to agree',
    );
    expect(agreed[0].messages).toBe(events.length);

    // the faults are the broker's and the replicas': a write is answered 503 while they last, never 500
    expect(answered.flatMap((a) => a.statuses.filter((x) => x.startsWith('500')))).toEqual([]);
    // a key whose request was lost with a killed replica is served again after about the gateway's wait
    // (SERVICE_REQUEST_TIMEOUT_MS, 10 s here) or a dead gateway's lease (5 s), not after a minute
    expect(longestBusyMs).toBeLessThan(20_000);
  }, 240_000);
});
