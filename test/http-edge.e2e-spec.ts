import { gzipSync } from 'node:zlib';
import request from 'supertest';
import type { INestApplication } from '@nestjs/common';
import { createLogger, loadConfig } from '@app/platform';
import { freePort, requireInfraEnv, serviceTestEnv } from '@app/testing';
import { createGatewayApp } from '../apps/gateway/src/gateway.app';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

/**
 * What the gateway refuses at its edge (docs/http.md), through a gateway whose log lines this file reads:
 * each bad input is a 4xx problem+json, changes nothing and pollutes no prototype; the token is read from
 * the Authorization header only and never reaches a log line.
 */
describe('HTTP edge: bodies, encodings, query strings, where the token is read, logged URLs', () => {
  let system: RunningSystem;
  let gateway: INestApplication;
  let http: ReturnType<typeof request>;
  const logLines: string[] = [];
  const admin = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
  let org: { id: string };
  let me: { id: string; email: string; name: string };

  beforeAll(async () => {
    system = await startSystem();
    const config = loadConfig('gateway', {
      ...serviceTestEnv('gateway'),
      NATS_URL: requireInfraEnv().natsUrl,
      GATEWAY_PORT: '0',
      METRICS_PORT: String(await freePort()),
    });
    gateway = await createGatewayApp(config, createLogger('gateway', 'info', { write: (line: string) => logLines.push(line) }));
    await gateway.listen(0, '127.0.0.1');
    http = request(`http://127.0.0.1:${(gateway.getHttpServer().address() as { port: number }).port}`);
    org = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Edge' }).expect(201)).body;
    me = (await http.get('/api/v1/me').set(admin).expect(200)).body;
  });
  afterAll(async () => {
    await gateway?.close();
    await system?.close();
  });

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, type: res.headers['content-type'], code: res.body?.code }).toEqual({
      status,
      type: expect.stringMatching(/^application\/problem\+json/),
      code,
    });
    expect(res.body.status).toBe(status);
  };
  /** a body sent byte for byte as given (supertest would otherwise send a Buffer as JSON of its bytes) */
  const raw = (method: 'post' | 'put' | 'patch', path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    http[method](path)
      .set({ ...admin, 'Content-Type': 'application/json', ...headers })
      .serialize((b: string) => b)
      .send(body as string);
  const orgNames = async () =>
    ((await http.get('/api/v1/organizations').set(admin).expect(200)).body.items as Array<{ name: string }>).map((o) => o.name).sort();
  const groupNames = async () =>
    ((await http.get(`/api/v1/organizations/${org.id}/groups?limit=500`).set(admin).expect(200)).body.items as Array<{ name: string }>)
      .map((g) => g.name)
      .sort();
  const profile = async () => (await http.get('/api/v1/me').set(admin).expect(200)).body;
  const expectNoPollution = () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  };

  describe('JSON nesting (limit 32 levels)', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

    it('a body nested 10,000 levels deep is 400 VALIDATION_FAILED naming the limit, with or without an Idempotency-Key', async () => {
      const orgs = await orgNames();
      const groups = await groupNames();
      for (const [method, path, body, headers] of [
        ['post', '/api/v1/organizations', `{"name": "Deep", "slug": ${deep(10_000)}}`, {}],
        ['post', `/api/v1/organizations/${org.id}/groups`, `{"name": "Deep", "memberIds": ${deep(10_000)}}`, { 'Idempotency-Key': 'deep-1' }],
        ['patch', '/api/v1/me', `{"name": ${deep(10_000)}}`, {}],
        ['post', '/api/v1/auth/login', `{"login": "admin", "password": ${deep(10_000)}}`, {}],
      ] as const) {
        const res = await raw(method, path, body, headers);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.detail).toMatch(/nested deeper than 32 levels/);
      }
      expect(await orgNames()).toEqual(orgs);
      expect(await groupNames()).toEqual(groups);
      expect((await profile()).name).toBe(me.name);
    });

    it('the deepest body the 1 MiB limit lets through is parsed without overflowing the stack (400); one over the limit is 413', async () => {
      const half = (1024 * 1024) / 2;
      const res = await raw('post', '/api/v1/organizations', deep(half));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.detail).toMatch(/nested deeper than 32 levels/);
      const over = await raw('post', '/api/v1/organizations', `${deep(half)} `);
      expectProblem(over, 413, 'VALIDATION_FAILED');
      expect(over.body.detail).toBe('request body larger than 1 MiB');
    });

    it('a body at the limit goes on to the usual validation', async () => {
      const res = await raw('post', `/api/v1/organizations/${org.id}/groups`, `{"name": "AtLimit", "memberIds": ${deep(31)}}`);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'memberIds' })]));
    });
  });

  describe('Content-Encoding and charset', () => {
    it.each(['gzip', 'deflate', 'br', 'x-unknown'])(
      'Content-Encoding: %s with a plain body is 415 UNSUPPORTED_MEDIA_TYPE and creates nothing',
      async (encoding) => {
        const before = await orgNames();
        const res = await raw('post', '/api/v1/organizations', '{"name": "Encoded"}', { 'Content-Encoding': encoding });
        expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect(await orgNames()).toEqual(before);
      },
    );

    it('a really compressed body is 415 too (request bodies are read uncompressed only); identity is accepted', async () => {
      const before = await orgNames();
      expectProblem(await raw('post', '/api/v1/organizations', gzipSync('{"name": "Gzipped"}'), { 'Content-Encoding': 'gzip' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await orgNames()).toEqual(before);
      await raw('post', '/api/v1/organizations', '{"name": "Identity"}', { 'Content-Encoding': 'identity' }).expect(201);
    });

    it('a charset other than UTF-8 is 415; bytes that are not UTF-8 are 400 (never decoded to U+FFFD)', async () => {
      const before = await orgNames();
      const utf16 = Buffer.from('{"name": "Sixteen"}', 'utf16le');
      expectProblem(await raw('post', '/api/v1/organizations', utf16, { 'Content-Type': 'application/json; charset=utf-16le' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      for (const bad of [Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80]) /* an encoded surrogate */, Buffer.from([0xc3])]) {
        const res = await raw('post', '/api/v1/organizations', Buffer.concat([Buffer.from('{"name": "Bad'), bad, Buffer.from('"}')]));
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.detail).toMatch(/not valid UTF-8/);
      }
      expect(await orgNames()).toEqual(before);
    });
  });

  describe('lone UTF-16 surrogates', () => {
    it('PUT /me/email with "a\\ud800b@example.com" is 400 and the email is unchanged', async () => {
      const res = await raw('put', '/api/v1/me/email', '{"email": "a\\ud800b@example.com"}');
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([{ field: 'email', message: 'must not contain a lone UTF-16 surrogate' }]);
      expect((await profile()).email).toBe(me.email);
    });

    it('a group name (or a key) with a lone surrogate is 400 and no group is created; a name with a surrogate pair is stored as sent', async () => {
      const before = await groupNames();
      for (const body of ['{"name": "Dev\\udc00s"}', '{"name": "Devs", "description": "x\\ud83d"}', '{"name": "Devs", "\\ud800": 1}']) {
        expectProblem(await raw('post', `/api/v1/organizations/${org.id}/groups`, body), 400, 'VALIDATION_FAILED');
      }
      expectProblem(await raw('patch', '/api/v1/me', '{"name": "Ad\\ud800min"}'), 400, 'VALIDATION_FAILED');
      expect(await groupNames()).toEqual(before);
      expect((await profile()).name).toBe(me.name);

      const rocket = (await raw('post', `/api/v1/organizations/${org.id}/groups`, '{"name": "Rockets \\ud83d\\ude80"}').expect(201)).body;
      expect(rocket.name).toBe('Rockets 🚀');
      expect((await http.get(`/api/v1/organizations/${org.id}/groups/${rocket.id}`).set(admin).expect(200)).body.name).toBe('Rockets 🚀');
    });
  });

  describe('__proto__, constructor and prototype keys', () => {
    it('are 400 in the bodies of every route, at any depth, and nothing changes', async () => {
      const orgs = await orgNames();
      const groups = await groupNames();
      for (const [method, path, body, field] of [
        ['post', '/api/v1/organizations', '{"name": "Polluter", "__proto__": {"polluted": "yes"}}', '__proto__'],
        ['post', `/api/v1/organizations/${org.id}/groups`, '{"name": "Polluters", "constructor": {"prototype": {"polluted": "yes"}}}', 'constructor'],
        ['patch', '/api/v1/me', '{"name": "Polluter", "__proto__": {"polluted": "yes"}}', '__proto__'],
        [
          'post',
          `/api/v1/organizations/${org.id}/accounts`,
          '{"accounts": [{"email": "p@example.com", "prototype": {"polluted": "yes"}}]}',
          'accounts[0].prototype',
        ],
        ['post', '/api/v1/auth/login', '{"login": "admin", "password": "whatever-password", "__proto__": {"polluted": "yes"}}', '__proto__'],
      ] as const) {
        for (const headers of [{}, { 'Idempotency-Key': `proto-${method}-${path}` }] as Array<Record<string, string>>) {
          const res = await raw(method, path, body, headers);
          expectProblem(res, 400, 'VALIDATION_FAILED');
          expect(res.body.errors).toEqual([{ field, message: expect.stringMatching(/is not allowed/) }]);
        }
      }
      expect(await orgNames()).toEqual(orgs);
      expect(await groupNames()).toEqual(groups);
      expect((await profile()).name).toBe(me.name);
      expectNoPollution();
    });

    it('are 400 in a query string; a deeply bracketed query key is just a name (no nesting) and refused as an unknown field', async () => {
      expectProblem(await http.get('/api/v1/me?__proto__=x').set(admin), 400, 'VALIDATION_FAILED');
      expectProblem(await http.get('/api/v1/organizations?constructor[prototype][polluted]=yes').set(admin), 400, 'VALIDATION_FAILED');
      expectProblem(await http.get(`/api/v1/organizations/${org.id}/groups?a.__proto__.polluted=yes`).set(admin), 400, 'VALIDATION_FAILED');
      const deepKey = `a${'[b]'.repeat(1000)}`;
      expectProblem(await http.get(`/api/v1/organizations/${org.id}/people?${deepKey}=1`).set(admin), 400, 'VALIDATION_FAILED');
      await http.get(`/api/v1/organizations/${org.id}/people?limit=5`).set(admin).expect(200);
      expectNoPollution();
    });
  });

  describe('the token is read from the Authorization header only', () => {
    it('?access_token= on GET /me and POST /me/token is 401, and the token is not reset', async () => {
      const before = (await http.get('/api/v1/me/token').set(admin).expect(200)).body;
      expectProblem(await http.get(`/api/v1/me?access_token=${BOOTSTRAP_TOKEN}`), 401, 'UNAUTHENTICATED');
      expectProblem(await http.post(`/api/v1/me/token?access_token=${BOOTSTRAP_TOKEN}`), 401, 'UNAUTHENTICATED');
      expect((await http.get('/api/v1/me/token').set(admin).expect(200)).body).toEqual(before);
    });

    it('{"access_token": …} in a JSON body is 401 and creates nothing', async () => {
      const before = await orgNames();
      const body = JSON.stringify({ access_token: BOOTSTRAP_TOKEN, name: 'Body token' });
      expectProblem(await http.post('/api/v1/organizations').set('Content-Type', 'application/json').send(body), 401, 'UNAUTHENTICATED');
      expectProblem(
        await http
          .post('/api/v1/me/token')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ access_token: BOOTSTRAP_TOKEN })),
        401,
        'UNAUTHENTICATED',
      );
      expect(await orgNames()).toEqual(before);
    });

    it('Bearer (any case) and Token in the header still authenticate; a malformed header does not', async () => {
      for (const authorization of [`Bearer ${BOOTSTRAP_TOKEN}`, `bearer ${BOOTSTRAP_TOKEN}`, `Token ${BOOTSTRAP_TOKEN}`])
        expect((await http.get('/api/v1/me').set('Authorization', authorization).expect(200)).body.id).toBe(me.id);
      for (const authorization of ['Bearer', `Basic ${BOOTSTRAP_TOKEN}`, `Bearer ${BOOTSTRAP_TOKEN} extra`, BOOTSTRAP_TOKEN])
        expectProblem(await http.get('/api/v1/me').set('Authorization', authorization), 401, 'UNAUTHENTICATED');
    });
  });

  describe('logged URLs', () => {
    it('a request with ?access_token=, ?token= or ?password= is logged without their values', async () => {
      const requestId = 'edge-log-check-1';
      await http
        .get('/api/v1/me?access_token=s3cret-in-the-url&token=s3cret-two&password=s3cret-three&keep=me')
        .set(admin)
        .set('X-Request-Id', requestId)
        .expect(200);
      const line = await eventually(async () => logLines.find((l) => l.includes(requestId) && l.includes('request completed')), 5000, 'the request log line');
      expect(line).not.toMatch(/s3cret/);
      expect(JSON.parse(line).req.url).toBe('/api/v1/me?access_token=[redacted]&token=[redacted]&password=[redacted]&keep=me');
    });

    it('no log line of this file holds the token, and none of its bad inputs failed as a 500', () => {
      expect(logLines.length).toBeGreaterThan(10);
      expect(logLines.filter((l) => l.includes(BOOTSTRAP_TOKEN))).toEqual([]);
      expect(logLines.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
    });
  });
});
