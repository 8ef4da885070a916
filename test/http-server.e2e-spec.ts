import request from 'supertest';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from './support/system';

/**
 * What the gateway's HTTP server decides before Nest sees a request, kept as it was on Express when the
 * gateway moved to Fastify (docs/http.md "HTTP server"): how paths are routed, what a path it cannot route
 * answers, which bodies are read, and that no refusal echoes what was sent.
 */
describe('HTTP server: routing and reading as on Express', () => {
  let system: RunningSystem;
  let http: ReturnType<typeof request>;
  const admin = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
  let org: { id: string; name: string };

  beforeAll(async () => {
    system = await startSystem();
    http = request(system.baseUrl);
    org = (await http.post('/api/v1/organizations').set(admin).send({ name: 'Routed' }).expect(201)).body;
  });
  afterAll(() => system?.close());

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, type: res.headers['content-type'], code: res.body?.code, requestId: typeof res.headers['x-request-id'] }).toEqual({
      status,
      type: expect.stringMatching(/^application\/problem\+json/),
      code,
      requestId: 'string',
    });
  };
  const orgNames = async () =>
    ((await http.get('/api/v1/organizations').set(admin).expect(200)).body.items as Array<{ name: string }>).map((o) => o.name).sort();

  it('paths are matched regardless of case and of a trailing slash; path parameters keep their case', async () => {
    const me = (await http.get('/api/v1/me').set(admin).expect(200)).body;
    expect((await http.get('/API/V1/Me/').set(admin).expect(200)).body).toEqual(me);
    expect((await http.get(`/Api/V1/organizations/${org.id.toUpperCase()}/`).set(admin).expect(200)).body).toMatchObject({ id: org.id, name: 'Routed' });
    expect((await http.get('/HEALTH/').expect(200)).body).toEqual({ status: 'ok', service: 'gateway' });
  });

  it('a 201 to a path with a trailing slash names the resource without a double slash', async () => {
    const res = await http.post(`/api/v1/organizations/${org.id}/groups/`).set(admin).send({ name: 'Slashed' }).expect(201);
    expect(res.headers.location).toBe(`/api/v1/organizations/${org.id}/groups/${res.body.id}`);
  });

  it('a path with a bad percent-encoding is a problem+json 400 that does not echo it; a long path parameter is 404 as any other non-id', async () => {
    const bad = await http.get(`/api/v1/organizations/%E0%A4%A/groups`).set(admin);
    expectProblem(bad, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(bad.body)).not.toContain('%E0');
    expectProblem(await http.get(`/api/v1/organizations/${'a'.repeat(500)}/groups`).set(admin), 404, 'NOT_FOUND');
    expectProblem(await http.get('/api/v1/no-such-route').set(admin), 404, 'NOT_FOUND');
  });

  it('a body of another media type is not read (the route sees none: 400 from validation, not 415); a malformed Content-Type is 415; nothing is created', async () => {
    const before = await orgNames();
    const xml = await http.post('/api/v1/organizations').set(admin).set('Content-Type', 'application/xml').send('<name>Xml</name>');
    expectProblem(xml, 400, 'VALIDATION_FAILED');
    expect(xml.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'name' })]));
    const text = await http.post('/api/v1/organizations').set(admin).set('Content-Type', 'text/plain').send('{"name": "Text"}');
    expectProblem(text, 400, 'VALIDATION_FAILED');
    expectProblem(await http.post('/api/v1/organizations').set(admin).set('Content-Type', 'json').send('{"name": "Malformed"}'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await orgNames()).toEqual(before);
  });

  it('JSON that does not parse, or whose top level is no object, is 400 without echoing the body; a byte order mark is ignored', async () => {
    for (const body of ['{"name": "s3cret-in-a-body"', '"s3cret-in-a-body"']) {
      const res = await http.post('/api/v1/organizations').set(admin).set('Content-Type', 'application/json').send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(res.body)).not.toContain('s3cret');
    }
    const bom = await http.post('/api/v1/organizations').set(admin).set('Content-Type', 'application/json').send('\uFEFF{"name": "Marked"}').expect(201);
    expect(bom.body.name).toBe('Marked');
  });
});
