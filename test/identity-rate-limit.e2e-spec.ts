import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { JSONCodec, type NatsConnection } from 'nats';
import { IdentitySubjects, systemMeta, type CreateAccountsReply } from '@app/contracts';
import { testNats } from '@app/testing';
import { startSystem, type RunningSystem } from './support/system';

describe('identity: brute-force protection (429 RATE_LIMITED)', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  const password = 'the right password';

  beforeAll(async () => {
    system = await startSystem();
    nc = await testNats();
    const subject = IdentitySubjects.createAccounts();
    const data = { meta: systemMeta(randomUUID()), body: { organizationId: randomUUID(), accounts: [{ email: 'victim@example.com' }] } };
    const reply = JSONCodec<{ response: CreateAccountsReply }>().decode(
      (await nc.request(subject, JSONCodec().encode({ pattern: subject, id: '1', data }), { timeout: 10_000 })).data,
    ).response;
    await request(system.baseUrl)
      .post('/api/v1/auth/password')
      .send({ login: 'victim', currentPassword: reply.created[0].temporaryPassword, newPassword: password })
      .expect(200);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  it('after 10 failures for one login even the right password is refused with 429 until the window ends', async () => {
    for (let i = 0; i < 10; i++)
      await request(system.baseUrl)
        .post('/api/v1/auth/login')
        .send({ login: 'victim', password: `wrong-${i}-password` })
        .expect(401);
    const res = await request(system.baseUrl).post('/api/v1/auth/login').send({ login: 'victim', password }).expect(429);
    expect(res.body).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(res.headers['retry-after']).toBe(String(res.body.retryAfterSeconds));
    await request(system.baseUrl)
      .post('/api/v1/auth/password')
      .send({ login: 'victim', currentPassword: password, newPassword: 'another password' })
      .expect(429);
  });

  it('after 50 failures from one IP every login from it is refused, whatever the login', async () => {
    let unauthorized = 0;
    let limited = false;
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await request(system.baseUrl)
        .post('/api/v1/auth/login')
        .send({ login: `nobody-${i}@example.com`, password: 'whatever-password' });
      if (res.status === 401) unauthorized++;
      else {
        expect(res.status).toBe(429);
        limited = true;
      }
    }
    expect(limited).toBe(true);
    expect(unauthorized).toBe(40); // 10 failures for `victim` above + 40 here = 50
  });
});
