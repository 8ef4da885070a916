import request from 'supertest';
import type { NatsConnection } from 'nats';
import { kvBucketName } from '@app/contracts';
import { testDatabaseName, testMongo, testNats, testNaming } from '@app/testing';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/** API.md: every write accepts an Idempotency-Key; a repeat within 24 h returns the first response and changes nothing. */
describe('Idempotency-Key on writes', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;
  let token = BOOTSTRAP_TOKEN;
  const bearer = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    system = await startSystem();
    nc = await testNats();
    http = request(system.baseUrl);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  async function storedEvents(type: string): Promise<number> {
    const mongo = await testMongo();
    try {
      const commits = await mongo.db(testDatabaseName('identity')).collection('event_commits').find({}).toArray();
      return commits.flatMap((c) => c.events as Array<{ type: string }>).filter((e) => e.type === type).length;
    } finally {
      await mongo.close();
    }
  }

  it('a repeated token reset returns the first response, marked as replayed, and resets the token once', async () => {
    const before = await storedEvents('user.api-token-reset');
    const first = await http.post('/api/v1/me/token').set(bearer()).set('Idempotency-Key', 'reset-1').expect(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // the old token is revoked, so the repeat is authenticated with the new one: the same user, the same key
    token = first.body.token;
    const again = await http.post('/api/v1/me/token').set(bearer()).set('Idempotency-Key', 'reset-1').expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    await http.get('/api/v1/me').set(bearer()).expect(200);
    expect(await storedEvents('user.api-token-reset')).toBe(before + 1);

    // a new key is a new request
    const other = await http.post('/api/v1/me/token').set(bearer()).set('Idempotency-Key', 'reset-2').expect(200);
    expect(other.body.token).not.toBe(first.body.token);
    token = other.body.token;
    expect(await storedEvents('user.api-token-reset')).toBe(before + 2);
  });

  it('concurrent requests with one key apply the write once', async () => {
    const before = await storedEvents('user.screen-name-changed');
    const send = () => http.patch('/api/v1/me').set(bearer()).set('Idempotency-Key', 'rename-1').send({ name: 'Concurrent Name' });
    const results = await Promise.all([send(), send(), send(), send()]);
    for (const r of results) expect([200, 409]).toContain(r.status);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe('CONCURRENT_MODIFICATION');
    expect(results.some((r) => r.status === 200)).toBe(true);
    const replay = await send().expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await storedEvents('user.screen-name-changed')).toBe(before + 1);
  });

  it('the same key for a different request is refused and changes nothing', async () => {
    await http.patch('/api/v1/me').set(bearer()).set('Idempotency-Key', 'rename-2').send({ name: 'First' }).expect(200);
    const res = await http.patch('/api/v1/me').set(bearer()).set('Idempotency-Key', 'rename-2').send({ name: 'Second' }).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const me = await http.get('/api/v1/me').set(bearer()).expect(200);
    expect(me.body.name).toBe('First');
  });

  it('a failed request keeps no record: repeating it runs it again', async () => {
    const bad = () => http.patch('/api/v1/me').set(bearer()).set('Idempotency-Key', 'bad-1').send({ username: '-not valid-' });
    const first = await bad().expect(400);
    const second = await bad().expect(400);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body.code).toBe(first.body.code);
  });

  it('a malformed key is 400 VALIDATION_FAILED', async () => {
    const res = await http.patch('/api/v1/me').set(bearer()).set('Idempotency-Key', 'x'.repeat(201)).send({ name: 'Nope' }).expect(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'Idempotency-Key' }] });
  });

  it('the stored records never hold a secret in clear', async () => {
    const kv = await nc.jetstream().views.kv(kvBucketName(testNaming(), 'IDEMPOTENCY'));
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    const stored = (await Promise.all(keys.map(async (k) => new TextDecoder().decode((await kv.get(k))?.value)))).join('\n');
    expect(stored).not.toContain('ppt_');
    expect(stored).not.toContain('reset-1');
    expect(stored).not.toContain('Concurrent Name');
  });
});
