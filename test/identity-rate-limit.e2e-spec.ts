import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NatsConnection } from 'nats';
import { IdentitySubjects, type CreateAccountsReply } from '@app/contracts';
import { natsRequest, testNats } from '@app/testing';
import { startSystem, type RunningSystem } from './support/system';

describe('identity: brute-force protection (429 RATE_LIMITED)', () => {
  let system: RunningSystem;
  let nc: NatsConnection;
  const password = 'the right password';

  beforeAll(async () => {
    system = await startSystem({ TRUST_PROXY: '1' });
    nc = await testNats();
    const subject = IdentitySubjects.createAccounts();
    const reply = await natsRequest<CreateAccountsReply>(
      nc,
      subject,
      { organizationId: randomUUID(), accounts: [{ email: 'victim@example.com' }] },
      { timeoutMs: 10_000 },
    );
    await request(system.baseUrl)
      .post('/api/v1/auth/password')
      .send({ login: 'victim', currentPassword: reply.created[0].temporaryPassword, newPassword: password })
      .expect(200);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.close();
  });

  // the gateway trusts one proxy hop: the client is the last X-Forwarded-For entry (as a load balancer appends it)
  const from = (ip: string) => ({ 'X-Forwarded-For': `10.9.9.9, ${ip}` });

  it('after 5 failures for a login from one address, that address gets 429 with Retry-After even for the right password; the owner logs in from another', async () => {
    const attacker = from('198.51.100.20');
    for (let i = 0; i < 5; i++)
      await request(system.baseUrl)
        .post('/api/v1/auth/login')
        .set(attacker)
        .send({ login: 'victim', password: `wrong-${i}-password` })
        .expect(401);
    await request(system.baseUrl).post('/api/v1/auth/login').set(attacker).send({ login: 'Victim', password: 'wrong-5-password' }).expect(401);
    const res = await request(system.baseUrl).post('/api/v1/auth/login').set(attacker).send({ login: 'victim', password }).expect(429);
    expect(res.body).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(res.body.retryAfterSeconds).toBeGreaterThan(0);
    expect(res.body.retryAfterSeconds).toBeLessThanOrEqual(30);
    expect(res.headers['retry-after']).toBe(String(res.body.retryAfterSeconds));
    await request(system.baseUrl)
      .post('/api/v1/auth/password')
      .set(attacker)
      .send({ login: 'victim', currentPassword: password, newPassword: 'another password' })
      .expect(429);
    // not a lock-out: the owner, from their own address, is not slowed down at all
    await request(system.baseUrl).post('/api/v1/auth/login').set(from('198.51.100.21')).send({ login: 'victim', password }).expect(200);
  });

  it('after 50 failures from one address every login from it is refused, whatever the login; other addresses are not', async () => {
    const attacker = from('203.0.113.30');
    let unauthorized = 0;
    let limited = false;
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await request(system.baseUrl)
        .post('/api/v1/auth/login')
        .set(attacker)
        .send({ login: `nobody-${i}@example.com`, password: 'whatever-password' });
      if (res.status === 401) unauthorized++;
      else {
        expect(res.status).toBe(429);
        limited = true;
      }
    }
    expect(limited).toBe(true);
    expect(unauthorized).toBe(51); // 50 free failures, the 51st starts the block
    await request(system.baseUrl).post('/api/v1/auth/login').set(from('203.0.113.31')).send({ login: 'victim', password }).expect(200);
  });

  it('without a trusted proxy hop, X-Forwarded-For written by a client does not change its address', async () => {
    const direct = await system.addGateway({ TRUST_PROXY: 'false' });
    for (let i = 0; i < 6; i++)
      await request(direct)
        .post('/api/v1/auth/login')
        .set(from(`192.0.2.${i}`))
        .send({ login: 'spoofer', password: 'whatever-password' })
        .expect(401);
    await request(direct).post('/api/v1/auth/login').set(from('192.0.2.99')).send({ login: 'spoofer', password: 'x-password' }).expect(429);
  });
});
