import request from 'supertest';
import { randomUUID } from 'node:crypto';
import type { JetStreamManager, NatsConnection } from 'nats';
import {
  AccessSubjects,
  AuditLogSubjects,
  deadLetterStreamName,
  IdentitySubjects,
  MembershipSubjects,
  slugify,
  stableUuid,
  systemMeta,
  type AuditEntry,
} from '@app/contracts';
import { natsOutcome, testDatabaseName, testMongo, testNats, testNaming } from '@app/testing';
import { BOOTSTRAP_EMAIL, BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from './support/system';

const ORG_NAME = 'Text Fields Org';

/**
 * Items 4 and 12 of "Security and reliability" through the real gateway: emails with invisible, bidi, control
 * or fullwidth characters and names with controls or bidi overrides are 400 VALIDATION_FAILED and change
 * nothing; a valid non-ASCII email or name is stored as sent (emails NFC-normalized and trimmed) and reaches
 * the audit log, not the dead-letter stream.
 */
describe('text fields through the gateway (emails, names, descriptions)', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let http: ReturnType<typeof request>;
  const orgId = stableUuid(`bootstrap-org:${slugify(ORG_NAME)}`);
  const auth = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };

  const identityCommits = async () => (await testMongo()).db(testDatabaseName('identity')).collection('event_commits').countDocuments();
  const authorizationCommits = async () => (await testMongo()).db(testDatabaseName('authorization')).collection('event_commits').countDocuments();
  const membershipCommits = async () => (await testMongo()).db(testDatabaseName('membership')).collection('event_commits').countDocuments();
  const deadLetters = async () => (await jsm.streams.info(deadLetterStreamName(testNaming()))).state.messages;
  const auditEntries = async (): Promise<AuditEntry[]> =>
    (await http.get(`/api/v1/organizations/${orgId}/audit-logs`).query({ limit: 500 }).set(auth).expect(200)).body.items;

  beforeAll(async () => {
    system = await startSystem({ BOOTSTRAP_ORG_NAME: ORG_NAME });
    nc = await testNats();
    jsm = await nc.jetstreamManager();
    http = request(system.baseUrl);
    await eventually(async () => (await auditEntries()).length > 0, 15_000, 'the bootstrap organization in its audit log');
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  const expectRefused = (res: request.Response) => {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  };

  const badEmails: Array<[string, string, RegExp]> = [
    ['a zero-width space', 'ro\u200bot@example.com', /invisible character \(U\+200B\)/],
    ['a right-to-left mark', '\u200Froot@example.com', /bidirectional control character \(U\+200F\)/],
    ['fullwidth letters', 'ｒｏｏｔ@example.com', /fullwidth/],
    ['a NUL', 'root\u0000@example.com', /control character \(U\+0000\)/],
    ['CR LF', 'root\r\n@example.com', /control character \(U\+000D\)/],
    ['a right-to-left override', 'moc.elpmaxe@\u202Etoor', /bidirectional control character \(U\+202E\)/],
    ['a lone surrogate', 'ro\uD800ot@example.com', /lone surrogate|surrogate/],
  ];
  it.each(badEmails)('PUT /me/email with %s is 400 VALIDATION_FAILED naming the problem, and changes nothing', async (_, email, message) => {
    const before = (await http.get('/api/v1/me').set(auth).expect(200)).body;
    const commits = await identityCommits();
    const res = await http.put('/api/v1/me/email').set(auth).send({ email });
    expectRefused(res);
    expect(JSON.stringify(res.body)).toMatch(message);
    expect((await http.get('/api/v1/me').set(auth).expect(200)).body).toEqual(before);
    expect(await identityCommits()).toBe(commits);
  });

  const badNames: Array<[string, string]> = [
    ['a NUL', 'Ops\u0000'],
    ['CR LF', 'Ops\r\nInjected: yes'],
    ['a tab', 'Ops\tteam'],
    ['a right-to-left override', 'Ops \u202Etxt.exe'],
    ['a bidi isolate', 'Ops \u2067x'],
    ['a lone surrogate', 'Ops \uDC00'],
  ];
  it.each(badNames)('a group, project, organization or display name with %s is 400 VALIDATION_FAILED and changes nothing', async (_, name) => {
    const before = (await http.get('/api/v1/me').set(auth).expect(200)).body;
    const commits = [await identityCommits(), await membershipCommits()];
    expectRefused(await http.post(`/api/v1/organizations/${orgId}/groups`).set(auth).send({ name }));
    expectRefused(
      await http
        .post(`/api/v1/organizations/${orgId}/groups`)
        .set(auth)
        .send({ name: 'ok', description: `${name} \u0007` }),
    );
    expectRefused(await http.post(`/api/v1/organizations/${orgId}/projects`).set(auth).send({ name }));
    expectRefused(await http.post('/api/v1/organizations').set(auth).send({ name }));
    expectRefused(await http.patch('/api/v1/me').set(auth).send({ name }));
    expect((await http.get('/api/v1/me').set(auth).expect(200)).body).toEqual(before);
    expect([await identityCommits(), await membershipCommits()]).toEqual(commits);
  });

  it('a valid non-ASCII email (accented local part, internationalized domain) is stored NFC-normalized and trimmed, and audited twice, not dead-lettered', async () => {
    const first = await http.put('/api/v1/me/email').set(auth).send({ email: ' jose\u0301@b\u00FCcher.example ' }).expect(200);
    expect(first.body.email).toBe('josé@bücher.example');
    // the next change carries it as previousEmail: that event must be valid too
    const second = await http.put('/api/v1/me/email').set(auth).send({ email: BOOTSTRAP_EMAIL }).expect(200);
    expect(second.body.email).toBe(BOOTSTRAP_EMAIL);

    const changes = await eventually(
      async () => {
        const found = (await auditEntries()).filter((e) => e.resource === 'User' && e.metadata.email !== undefined);
        return found.length === 2 ? found : undefined;
      },
      15_000,
      'both email changes in the audit log',
    );
    expect(changes.map((e) => [e.metadata.email, e.metadata.previousEmail])).toEqual([
      [BOOTSTRAP_EMAIL, 'josé@bücher.example'],
      ['josé@bücher.example', BOOTSTRAP_EMAIL],
    ]);
    expect(await deadLetters()).toBe(0);
  });

  it('a group with a non-ASCII name and a multi-line description is created as sent and audited', async () => {
    const name = 'Équipe 山田 👩\u200D💻';
    const description = 'first line\nsecond line';
    const res = await http.post(`/api/v1/organizations/${orgId}/groups`).set(auth).send({ name, description }).expect(201);
    expect(res.body).toMatchObject({ name, description });
    await eventually(
      async () => (await auditEntries()).find((e) => e.resource === 'Group' && e.operation === 'Added' && e.resourceName === name),
      15_000,
      'the group in the audit log',
    );
    expect(await deadLetters()).toBe(0);
  });

  it('a message sent straight over NATS, past the gateway, is checked at the edge of each service: a bad field is VALIDATION_FAILED naming it and changes nothing; ids are lower-cased', async () => {
    const me = (await http.get('/api/v1/me').set(auth).expect(200)).body as { id: string; username: string };
    const send = async (subject: string, body: unknown) => {
      const meta = { ...systemMeta(randomUUID()), actor: { id: me.id, username: me.username }, medium: 'api' as const };
      return natsOutcome(nc, subject, body, { meta }); // in this file's namespace, as the services have it from their configs
    };
    const before = { identity: await identityCommits(), membership: await membershipCommits(), authorization: await authorizationCommits() };
    const bidi = 'Evil\u202Egnp.exe';
    expect(await send(IdentitySubjects.changeEmail(), { userId: me.id, email: 'ro\u200bot@example.com' })).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
      message: 'email contains an invisible character (U+200B)',
    });
    expect(await send(MembershipSubjects.createGroup(), { organizationId: orgId, name: bidi, description: '', memberIds: [] })).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
      message: 'name contains a bidirectional control character (U+202E)',
    });
    expect(await send(AccessSubjects.createRole(), { organizationId: orgId, name: 'Fine', scope: 'galaxy', permissions: [] })).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
      message: 'scope must be organization or project',
    });
    expect(await send(AuditLogSubjects.listEntries(), { organizationId: orgId, resource: 'Planet' })).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
      message: 'unknown resource',
    });
    expect({ identity: await identityCommits(), membership: await membershipCommits(), authorization: await authorizationCommits() }).toEqual(before);
    // normalized at the edge: an organization id in upper case names the same organization
    expect(await send(MembershipSubjects.getOrganization(), { organizationId: orgId.toUpperCase() })).toMatchObject({ ok: true, value: { id: orgId } });
  });
});
