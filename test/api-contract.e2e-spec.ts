import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { ErrorCode } from '@app/contracts';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The OpenAPI document describes every operation completely (docs/http.md "OpenAPI"), and the headers it
 * promises are sent: Location on 201, WWW-Authenticate on 401, no X-Powered-By.
 */
describe('API contract: the OpenAPI document and the headers it promises', () => {
  let system: RunningSystem;
  let doc: Json;
  const admin = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  const operations: Array<{ method: string; path: string; op: Json }> = [];

  beforeAll(async () => {
    system = await startSystem();
    doc = (await request(system.baseUrl).get('/docs-json').expect(200)).body;
    for (const [path, item] of Object.entries(doc.paths as Json))
      for (const [method, op] of Object.entries(item as Json)) operations.push({ method, path, op: op as Json });
  });
  afterAll(() => system?.close());

  it('redocly lint (recommended rules) finds no error in the served document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const cli = join(__dirname, '..', 'node_modules', '.bin', 'redocly');
      const run = await promisify(execFile)(cli, ['lint', '--extends=recommended', '--format=json', file], {
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      }).catch((err: { stdout: string }) => err);
      const problems = (JSON.parse(run.stdout) as { problems: Array<{ severity: string; ruleId: string; message: string }> }).problems;
      expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every operation has a summary and a unique camelCase operation id, and the servers and security scheme are described', () => {
    expect(operations.length).toBeGreaterThan(40);
    for (const { method, path, op } of operations) {
      expect({ at: `${method} ${path}`, summary: typeof op.summary }).toEqual({ at: `${method} ${path}`, summary: 'string' });
      expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      // a description that says who may call it, and an example of every JSON body
      expect({ at: `${method} ${path}`, description: op.description }).toEqual({
        at: `${method} ${path}`,
        description: expect.stringMatching(/No authentication|Any authenticated user|Any member|Needs the (organization|project) permission `[a-z_.]+`/),
      });
      const body = op.requestBody?.content?.['application/json'];
      if (body) {
        const schema = body.schema.$ref ? doc.components.schemas[body.schema.$ref.split('/').pop()] : body.schema;
        const propertyExamples = Object.values((schema.properties ?? {}) as Json).some((p) => 'example' in p);
        expect({ at: `${method} ${path}`, example: Boolean(body.example ?? body.examples) || propertyExamples }).toEqual({
          at: `${method} ${path}`,
          example: true,
        });
      }
    }
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(operations.length);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' });
  });

  it('every error response is a Problem; authenticated operations document 401, organization-scoped ones 403 and 404, all 500 and 503', () => {
    expect(doc.components.schemas.Problem.properties.code.enum).toEqual(Object.values(ErrorCode));
    for (const { method, path, op } of operations) {
      const at = `${method} ${path}`;
      const statuses = Object.keys(op.responses).map(Number);
      for (const s of statuses.filter((s) => s >= 400))
        expect({ at, s, schema: op.responses[s].content?.['application/problem+json']?.schema }).toEqual({
          at,
          s,
          schema: { $ref: '#/components/schemas/Problem' },
        });
      const secured = op.security.length > 0;
      const expected = [...(secured ? [401] : []), ...(path.includes('{org}') ? [403, 404] : []), 500, 503];
      expect({ at, missing: expected.filter((s) => !statuses.includes(s)) }).toEqual({ at, missing: [] });
      if (['post', 'put', 'patch', 'delete'].includes(method))
        expect({ at, key: op.parameters.some((p: Json) => p.$ref === '#/components/parameters/IdempotencyKey') }).toEqual({ at, key: true });
    }
    const login = operations.find((o) => o.path === '/api/v1/auth/login')!.op;
    expect(login.security).toEqual([]);
    expect(login.responses[429].headers['Retry-After']).toBeDefined();
    const csv = operations.find((o) => o.path.endsWith('/audit-logs/export'))!.op;
    expect(Object.keys(csv.responses[200].content ?? {})).toContain('text/csv');
  });

  it('a 201 names the created resource in Location, and the answer replayed under the same Idempotency-Key does too', async () => {
    const org = await request(system.baseUrl)
      .post('/api/v1/organizations')
      .set(admin)
      .set('Idempotency-Key', 'location-org')
      .send({ name: 'Located' })
      .expect(201);
    expect(org.headers.location).toBe(`/api/v1/organizations/${org.body.id}`);
    const again = await request(system.baseUrl)
      .post('/api/v1/organizations')
      .set(admin)
      .set('Idempotency-Key', 'location-org')
      .send({ name: 'Located' })
      .expect(201);
    expect(again.headers.location).toBe(org.headers.location);
    const group = await request(system.baseUrl).post(`/api/v1/organizations/${org.body.id}/groups`).set(admin).send({ name: 'Ops' }).expect(201);
    expect(group.headers.location).toBe(`/api/v1/organizations/${org.body.id}/groups/${group.body.id}`);
    await request(system.baseUrl).get(group.headers.location).set(admin).expect(200);
  });

  it('401 says how to authenticate (WWW-Authenticate), and no response names the framework', async () => {
    const missing = await request(system.baseUrl).get('/api/v1/me').expect(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const wrong = await request(system.baseUrl).get('/api/v1/me').set('Authorization', 'Bearer ppt_nope').expect(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const ok = await request(system.baseUrl).get('/api/v1/me').set(admin).expect(200);
    for (const res of [missing, ok]) expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
