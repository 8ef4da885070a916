import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { connect, JSONCodec, type Msg, type NatsConnection } from 'nats';
import { bootstrapAdminUserId, IdentitySubjects, kvBucketName, MembershipSubjects } from '@app/contracts';
import { checkContractAndCleanUp, findBinary, freePort, publishedEvents, waitForPort, testNaming } from '@app/testing';
import { fingerprintOf, recordKey, type IdempotencyRecord } from '../apps/gateway/src/common/idempotency';
import { BOOTSTRAP_EMAIL, BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * The gateway never lies about a write (docs/idempotency.md): 503 OUTCOME_UNKNOWN, with the Idempotency-Key
 * to retry with, once a command was sent and no answer came; 503 SERVICE_UNAVAILABLE only when nothing was
 * done; a key whose holder died is served again within seconds, and a new key is never refused. This file
 * runs its own nats-server (its process id lets a test stall the broker with SIGSTOP).
 */
describe('the outcome of a write: OUTCOME_UNKNOWN, SERVICE_UNAVAILABLE, keys after a crash', () => {
  const bin = findBinary('nats-server', [process.env.NATS_SERVER_BIN]);
  const storeDir = mkdtempSync(join(tmpdir(), 'nats-outcome-'));
  const sharedNatsUrl = process.env.NATS_URL;
  let broker: ChildProcess;
  let system: RunningSystem;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;
  const auth = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };

  beforeAll(async () => {
    if (!bin) throw new Error('test/outcome.e2e-spec.ts stalls the broker: it needs the nats-server binary (PATH, /usr/sbin, or NATS_SERVER_BIN)');
    const port = await freePort();
    broker = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
    await waitForPort(port, 30_000, broker);
    process.env.NATS_URL = `nats://127.0.0.1:${port}`;
    system = await startSystem({ SERVICE_REQUEST_TIMEOUT_MS: '3000' });
    nc = await connect({ servers: process.env.NATS_URL });
    http = request(system.baseUrl);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
    await checkContractAndCleanUp();
    if (broker && broker.exitCode === null) {
      broker.kill('SIGCONT');
      const exited = new Promise((r) => broker.once('exit', r));
      broker.kill('SIGTERM');
      await exited;
    }
    process.env.NATS_URL = sharedNatsUrl;
    rmSync(storeDir, { recursive: true, force: true });
  });

  const organizationsWithSlug = async (slug: string) => {
    const mine = await http.get('/api/v1/organizations').set(auth).query({ limit: 500 }).expect(200);
    return (mine.body.items as Array<{ id: string; slug: string }>).filter((o) => o.slug === slug);
  };

  /** Membership is down and this test holds the next create-organization command, as a replica that took it and stalled. */
  async function holdNextCreateOrganization(): Promise<{ message: Promise<Msg> }> {
    await system.stopService('membership');
    const sub = nc.subscribe(testNaming().subject(MembershipSubjects.createOrganization()), { max: 1 });
    await nc.flush();
    const message = (async () => {
      for await (const m of sub) return m;
      throw new Error('no create-organization command arrived');
    })();
    return { message };
  }

  /** The held command reaches the real membership service, long after the gateway gave up on it. */
  async function deliverLate(held: Msg): Promise<{ id: string }> {
    const reply = await nc.request(held.subject, held.data, { headers: held.headers, timeout: 20_000 });
    return JSONCodec<{ response: { id: string } }>().decode(reply.data).response;
  }

  it('a write without a key whose command is answered after the gateway gave up: 503 OUTCOME_UNKNOWN with a key; the retry with it gets the first outcome, one organization', async () => {
    const held = await holdNextCreateOrganization();
    const body = { name: 'Late Corp', slug: 'late-corp' };
    const unknown = await http.post('/api/v1/organizations').set(auth).send(body);
    expect(unknown.status).toBe(503);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.body).toMatchObject({ status: 503, code: 'OUTCOME_UNKNOWN', detail: expect.stringMatching(/may or may not have been applied/) });
    const key = unknown.body.idempotencyKey as string;
    expect(key).toMatch(/^[\x21-\x7e]{1,200}$/);
    expect(unknown.headers['idempotency-key']).toBe(key);

    // the service applies the command after all, then the client retries with the key it was given
    await system.startService('membership');
    const late = await deliverLate(await held.message);
    const retry = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', key).send(body);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual({ id: late.id, ...body });
    const again = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', key).send(body).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(retry.body);
    // the key was recorded for this request: another body under it is refused
    await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', key).send({ name: 'Other Corp', slug: 'other-corp' }).expect(400);
    expect(await organizationsWithSlug('late-corp')).toEqual([expect.objectContaining({ id: late.id })]);
  });

  it('a retry that runs before the late copy of its command: the late copy applies nothing', async () => {
    const held = await holdNextCreateOrganization();
    const body = { name: 'Later Corp', slug: 'later-corp' };
    const unknown = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', 'outcome-later-1').send(body);
    expect([unknown.status, unknown.body.code, unknown.body.idempotencyKey]).toEqual([503, 'OUTCOME_UNKNOWN', 'outcome-later-1']);
    expect(unknown.headers['idempotency-key']).toBe('outcome-later-1');

    await system.startService('membership');
    const retry = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', 'outcome-later-1').send(body).expect(201);
    const late = await deliverLate(await held.message);
    expect(late.id).toBe(retry.body.id);
    expect(await organizationsWithSlug('later-corp')).toEqual([expect.objectContaining({ id: retry.body.id })]);
  });

  it('SERVICE_UNAVAILABLE still means nothing was done: a service down before the request', async () => {
    await system.stopService('membership');
    const down = await http.post('/api/v1/organizations').set(auth).send({ name: 'Never Corp', slug: 'never-corp' });
    expect(down.status).toBe(503);
    expect(down.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(down.body.idempotencyKey).toBeUndefined();
    expect(down.headers['idempotency-key']).toBeUndefined();
    await system.startService('membership');
    expect(await organizationsWithSlug('never-corp')).toEqual([]);
  });

  it('a key whose holder died (no more heartbeats) is taken over within seconds', async () => {
    const body = { name: 'Orphan Corp', slug: 'orphan-corp' };
    const kv = await nc.jetstream().views.kv(kvBucketName(testNaming(), 'IDEMPOTENCY'));
    const now = Date.now();
    const orphan: IdempotencyRecord = {
      state: 'pending',
      fingerprint: fingerprintOf('POST', '/api/v1/organizations', body),
      startedAt: now,
      owner: 'a gateway that crashed',
      renewedAt: now,
    };
    await kv.put(recordKey(bootstrapAdminUserId(BOOTSTRAP_EMAIL), 'outcome-orphan-1'), new TextEncoder().encode(JSON.stringify(orphan)));

    let res: request.Response;
    for (;;) {
      res = await http.post('/api/v1/organizations').set(auth).set('Idempotency-Key', 'outcome-orphan-1').send(body);
      if (res.status !== 409 || Date.now() - now > 15_000) break;
      expect(res.body.code).toBe('CONCURRENT_MODIFICATION');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(res.status).toBe(201);
    expect(Date.now() - now).toBeLessThan(10_000);
    expect(await organizationsWithSlug('orphan-corp')).toHaveLength(1);
  });

  it('an account batch whose identity replica died holding it: 503 OUTCOME_UNKNOWN after the usual wait, not a minute; the retry with the key creates the account once', async () => {
    const org = (await http.post('/api/v1/organizations').set(auth).send({ name: 'Lost Replica Corp', slug: 'lost-replica-corp' }).expect(201)).body
      .id as string;
    // identity's only replica takes the batch and dies with it: this test holds the command and answers nothing
    await system.stopService('identity');
    const sub = nc.subscribe(testNaming().subject(IdentitySubjects.createAccounts()), { max: 1 });
    await nc.flush();
    const held = (async () => {
      for await (const m of sub) return m;
      throw new Error('no create-accounts command arrived');
    })();

    const body = { accounts: [{ email: 'lost-replica@example.com' }] };
    const began = Date.now();
    const lost = await http.post(`/api/v1/organizations/${org}/accounts`).set(auth).set('Idempotency-Key', 'outcome-lost-replica-1').send(body);
    const waited = Date.now() - began;
    expect([lost.status, lost.body.code, lost.headers['retry-after'], lost.body.idempotencyKey]).toEqual([
      503,
      'OUTCOME_UNKNOWN',
      '1',
      'outcome-lost-replica-1',
    ]);
    // SERVICE_REQUEST_TIMEOUT_MS (3 s here) plus 40 ms for the one account; the gateway used to wait 60 s for any batch
    expect(waited).toBeLessThan(10_000);

    // a replica is back: the client's retry with the same key is taken over at once (never 409 "still running") and
    // creates the account; on a loaded machine the fresh replica's first batch may outlast the 3 s, so the client
    // sends it again with the key on a 503, as it would
    await system.startService('identity');
    let retry: request.Response;
    for (let attempt = 1; ; attempt++) {
      retry = await http.post(`/api/v1/organizations/${org}/accounts`).set(auth).set('Idempotency-Key', 'outcome-lost-replica-1').send(body);
      if (retry.status !== 503 || attempt === 5) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect([retry.status, retry.body.code]).toEqual([201, undefined]);
    const userId = retry.body.created[0].userId as string;
    // the copy the dead replica held is handled after all (by the live one) and answered to membership: nothing twice
    const late = await held;
    const lateReply = await nc.request(late.subject, late.data, { headers: late.headers, timeout: 20_000 });
    const lateAccounts = JSONCodec<{ response: { created: Array<{ userId: string }> } }>().decode(lateReply.data).response.created;
    expect(lateAccounts.map((a) => a.userId)).toEqual([userId]);
    late.respond(lateReply.data);

    const people = await http.get(`/api/v1/organizations/${org}/people`).set(auth).query({ search: 'lost-replica' }).expect(200);
    expect(people.body.items.map((p: { id: string }) => p.id)).toEqual([userId]);
    const created = (await publishedEvents(nc)).filter((e) => e.type === 'user.created' && (e.data as { email?: string }).email === 'lost-replica@example.com');
    expect(created).toHaveLength(1);
  });

  it('a new key is never refused: the broker stalls mid-request, the claim is written but its answer lost', async () => {
    const org = (await http.post('/api/v1/organizations').set(auth).send({ name: 'Stall Corp', slug: 'stall-corp' }).expect(201)).body.id as string;
    const created = (
      await http
        .post(`/api/v1/organizations/${org}/accounts`)
        .set(auth)
        .send({ accounts: [{ email: 'stalled@example.com' }] })
        .expect(201)
    ).body.created[0] as { username: string; temporaryPassword: string };

    // a public write (no token check through the broker first) with a brand-new key, sent while the broker
    // is stopped: the gateway's claim of the key waits in the socket and times out (5 s), then the broker
    // resumes, writes the claim, and the gateway looks at the key and finds its own claim
    broker.kill('SIGSTOP');
    let res: Promise<request.Response>;
    try {
      res = http
        .post('/api/v1/auth/password')
        .set('Idempotency-Key', 'outcome-stall-1')
        .send({ login: created.username, currentPassword: created.temporaryPassword, newPassword: 'a long enough passphrase' })
        .then((r) => r);
      await new Promise((r) => setTimeout(r, 6500));
    } finally {
      broker.kill('SIGCONT');
    }
    const changed = await res;
    expect([200, 503]).toContain(changed.status); // never 409 CONCURRENT_MODIFICATION
    if (changed.status === 503) {
      // the stall may still cost the command its answer: the gateway then says so
      expect(changed.body.code).toBe('OUTCOME_UNKNOWN');
    } else {
      await http.post('/api/v1/auth/login').send({ login: created.username, password: 'a long enough passphrase' }).expect(200);
    }
  });
});
