import type { Msg, NatsConnection, SubscriptionOptions } from 'nats';
import { subjectNaming } from '@app/contracts';
import { natsMicroserviceOptions, PrefixedServerNats } from './microservice';

describe('natsMicroserviceOptions (the NATS server strategy of a service)', () => {
  const options = (server: PrefixedServerNats) => (server as unknown as { options: Record<string, unknown> }).options;

  it('names the queue group with the prefix of the naming it is given', () => {
    const acme = natsMicroserviceOptions('membership', 'nats://127.0.0.1:4222', subjectNaming('acme.')).strategy as PrefixedServerNats;
    expect(options(acme)).toMatchObject({ queue: 'acme.membership' });
    const plain = natsMicroserviceOptions('identity', 'nats://a:1,nats://b:2', subjectNaming('')).strategy as PrefixedServerNats;
    expect(options(plain)).toMatchObject({ queue: 'identity', servers: ['nats://a:1', 'nats://b:2'] });
  });

  it('subscribes prefix + pattern for each handler, and hands the handler the subject without the prefix', async () => {
    const server = new PrefixedServerNats({ queue: 'acme.identity' }, subjectNaming('acme.'));
    const seen: string[] = [];
    server.addHandler('qry.identity.get-user', async (_data: unknown, ctx: { getSubject(): string }) => void seen.push(ctx.getSubject()));
    const subscribed: Array<{ subject: string; queue?: string }> = [];
    const client = { subscribe: (subject: string, opts?: SubscriptionOptions) => (subscribed.push({ subject, queue: opts?.queue }), {}) };
    server.bindEvents(client as unknown as NatsConnection);
    expect(subscribed).toEqual([{ subject: 'acme.qry.identity.get-user', queue: 'acme.identity' }]);

    const wire = { subject: 'acme.qry.identity.get-user', data: Buffer.from(JSON.stringify({ pattern: 'x', id: '1', data: {} })), respond: () => true };
    await server.handleMessage('qry.identity.get-user', wire as unknown as Msg);
    expect(seen).toEqual(['qry.identity.get-user']);
  });
});
