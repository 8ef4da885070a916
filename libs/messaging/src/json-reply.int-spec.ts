import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { JSONCodec, StorageType, type NatsConnection } from 'nats';
import { throwError } from 'rxjs';
import { DomainError, kvBucketName, qrySubject, subjectNaming, systemMeta } from '@app/contracts';
import { requireInfraEnv, testNaming, testPrefix } from '@app/testing';
import { connectNats, jetStreamManager } from './jetstream';
import { JsonText } from './json-reply';
import { LARGE_REPLY_HEADER, largeReplies } from './large-replies';
import { natsMicroserviceOptions, type PrefixedServerNats } from './microservice';
import { rpcClient } from './rpc-client';

/**
 * A service's `JsonText` reply through Nest's NATS server (the services' own strategy) and a real nats-server:
 * `requestJson` forwards its bytes exactly, `request` reads it as any reply, and the other replies still work;
 * a reply too large for one message arrives through the large-replies store, or is an error at once when it
 * cannot be stored.
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
  const hugeKept = qrySubject('identity', 'json-reply-huge-kept');

  beforeAll(async () => {
    const natsUrl = requireInfraEnv().natsUrl;
    server = natsMicroserviceOptions('identity', natsUrl, testNaming()).strategy as PrefixedServerNats;
    server.addHandler(kept, async () => new JsonText(text));
    server.addHandler(plain, async () => page);
    // an error reply as a service's exception filter makes it (an observable that fails with the error's reply)
    server.addHandler(failing, async () => throwError(() => new DomainError('NOT_FOUND', 'no such page').toReply()));
    server.addHandler(huge, async () => ({ text: 'x'.repeat(2 * 1024 * 1024) }));
    server.addHandler(
      hugeKept,
      async () => new JsonText(JSON.stringify({ items: Array.from({ length: 30_000 }, (_, i) => ({ id: i, name: `person ${i}` })) }, null, 1)),
    );
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

  it('a reply larger than the server takes in one message arrives whole, through the large-replies store, which it leaves empty', async () => {
    expect(await rpcClient(nc).request(huge, message(), 10_000)).toEqual({ text: 'x'.repeat(2 * 1024 * 1024) });
    const bytes = await rpcClient(nc).requestJson(hugeKept, message(), 10_000);
    expect(bytes.length).toBeGreaterThan(1024 * 1024); // the server's max_payload (1 MiB here)
    expect(JSON.parse(bytes.toString('utf8')).items).toHaveLength(30_000);
    expect(bytes.toString('utf8')).toContain('\n "items": [\n'); // as the service wrote it: forwarded, not encoded again
    // read once, then deleted by the caller
    const store = await largeReplies(nc, testNaming());
    const left = async () => (await store.list()).filter((o) => !o.deleted).length;
    for (let i = 0; i < 50 && (await left()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await left()).toBe(0);
    // the store's stream lost (a memory stream after a server restart): the next large reply opens it again
    await (await jetStreamManager(nc)).streams.delete(`OBJ_${kvBucketName(testNaming(), 'LARGE_REPLIES')}`);
    expect(await rpcClient(nc).request(huge, message(), 10_000)).toEqual({ text: 'x'.repeat(2 * 1024 * 1024) });
    // a caller that does not read the header gets an error reply, never the marker as a response
    const raw = await nc.request(testNaming().subject(huge), JSONCodec().encode({ pattern: testNaming().subject(huge), id: 'raw', data: message() }), {
      timeout: 10_000,
    });
    expect(raw.headers?.get(LARGE_REPLY_HEADER)).toBeTruthy();
    expect(JSONCodec().decode(raw.data)).toMatchObject({ id: 'raw', err: { code: 'INTERNAL' } });
  });

  it('a reply larger than one message that cannot be stored is an error reply at once, not a timeout', async () => {
    // another namespace whose large-replies store keeps no chunk (a stream without the chunks' subjects)
    const naming = subjectNaming(`${testPrefix().replace(/\.$/, '')}-small.`);
    const jsm = await jetStreamManager(nc);
    const bucket = kvBucketName(naming, 'LARGE_REPLIES');
    await jsm.streams.add({
      name: `OBJ_${bucket}`,
      subjects: [`$O.${bucket}.M.>`],
      storage: StorageType.Memory,
      allow_rollup_hdrs: true,
    });
    const small = natsMicroserviceOptions('identity', requireInfraEnv().natsUrl, naming).strategy as PrefixedServerNats;
    small.addHandler(huge, async () => ({ text: 'x'.repeat(2 * 1024 * 1024) }));
    await new Promise<void>((resolve, reject) => small.listen((err?: unknown) => (err ? reject(err as Error) : resolve())));
    await small.unwrap<NatsConnection>().flush(); // its subscriptions are on the server
    const client = await connectNats(requireInfraEnv().natsUrl, 'json-reply-small');
    try {
      rpcClient(client, { naming });
      const started = Date.now();
      await expect(rpcClient(client).request(huge, message(), 10_000)).rejects.toMatchObject({ code: 'INTERNAL' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await client.close();
      await small.close();
      await jsm.streams.delete(`OBJ_${bucket}`);
    }
  });

  it('serializes a reply that was not kept as JSON, and an error reply is still an error', async () => {
    expect(JSON.parse((await rpcClient(nc).requestJson(plain, message())).toString('utf8'))).toEqual(page);
    await expect(rpcClient(nc).requestJson(failing, message())).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no such page' });
  });
});
