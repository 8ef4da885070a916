import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { throwError } from 'rxjs';
import { DomainError, qrySubject, systemMeta } from '@app/contracts';
import { requireInfraEnv, testNaming } from '@app/testing';
import { connectNats } from './jetstream';
import { JsonText } from './json-reply';
import { natsMicroserviceOptions, type PrefixedServerNats } from './microservice';
import { rpcClient } from './rpc-client';

/**
 * A service's `JsonText` reply through Nest's NATS server (the services' own strategy) and a real nats-server:
 * `requestJson` forwards its bytes exactly, `request` reads it as any reply, and the other replies still work;
 * a reply too large for one message is an error at once.
 */
describe('JsonText replies over NATS (real broker, the services’ NATS server strategy)', () => {
  let nc: NatsConnection;
  let server: PrefixedServerNats;
  const page = { items: [{ id: randomUUID(), name: 'Zoë "Z" Ünal' }], nextCursor: null };
  // indented: a reply decoded and encoded again would come back compact, so the bytes show which way it went
  const text = JSON.stringify(page, null, 1);
  const kept = qrySubject('identity', 'json-reply-kept');
  const plain = qrySubject('identity', 'json-reply-plain');
  const failing = qrySubject('identity', 'json-reply-failing');
  const huge = qrySubject('identity', 'json-reply-huge');

  beforeAll(async () => {
    const natsUrl = requireInfraEnv().natsUrl;
    server = natsMicroserviceOptions('identity', natsUrl, testNaming()).strategy as PrefixedServerNats;
    server.addHandler(kept, async () => new JsonText(text));
    server.addHandler(plain, async () => page);
    // an error reply as a service's exception filter makes it (an observable that fails with the error's reply)
    server.addHandler(failing, async () => throwError(() => new DomainError('NOT_FOUND', 'no such page').toReply()));
    server.addHandler(huge, async () => ({ text: 'x'.repeat(2 * 1024 * 1024) }));
    await new Promise<void>((resolve, reject) => server.listen((err?: unknown) => (err ? reject(err as Error) : resolve())));
    nc = await connectNats(natsUrl, 'json-reply-test');
    rpcClient(nc, { naming: testNaming() });
  });
  afterAll(async () => {
    await nc.close();
    await server.close();
  });

  const message = () => ({ meta: systemMeta(randomUUID()), body: {} });

  it('forwards a kept page byte for byte, and reads it as a value like any other reply', async () => {
    const bytes = await rpcClient(nc).requestJson(kept, message());
    expect(bytes.toString('utf8')).toBe(text);
    expect(await rpcClient(nc).request(kept, message())).toEqual(page);
  });

  it('a reply larger than the server takes in one message is an error reply at once, not a timeout', async () => {
    const started = Date.now();
    await expect(rpcClient(nc).request(huge, message(), 10_000)).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('serializes a reply that was not kept as JSON, and an error reply is still an error', async () => {
    expect(JSON.parse((await rpcClient(nc).requestJson(plain, message())).toString('utf8'))).toEqual(page);
    await expect(rpcClient(nc).requestJson(failing, message())).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no such page' });
  });
});
