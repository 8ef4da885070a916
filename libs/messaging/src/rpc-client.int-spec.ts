import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Events, JSONCodec, type NatsConnection, type Subscription } from 'nats';
import { cmdSubject, DomainError, qrySubject, systemMeta } from '@app/contracts';
import { findBinary, requireInfraEnv, startNatsServer, testNaming, type LocalServer } from '@app/testing';
import { connectNats } from './jetstream';
import { callService, RpcFailure, rpcClient } from './rpc-client';

const codec = JSONCodec<{ id: string; data: unknown }>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The one request/reply client, against a real nats-server: what a failure says must be true — SERVICE_UNAVAILABLE
 * only when nothing was done, OUTCOME_UNKNOWN when a command was sent and not answered (docs/idempotency.md).
 */
describe('RPC client (real NATS)', () => {
  let nc: NatsConnection;
  let service: NatsConnection;
  const subs: Subscription[] = [];
  const meta = () => systemMeta(randomUUID());

  beforeAll(async () => {
    nc = await connectNats(requireInfraEnv().natsUrl, 'rpc-client-test');
    // the client's namespace, as a service's comes from its config: every request goes out with this file's prefix
    rpcClient(nc, { naming: testNaming() });
    service = await connectNats(requireInfraEnv().natsUrl, 'rpc-client-test-service');
  });
  afterEach(() => subs.splice(0).forEach((s) => s.unsubscribe()));
  afterAll(async () => {
    await nc.close();
    await service.close();
  });

  /**
   * A service in the @nestjs/microservices wire format, listening on `subject` in this file's namespace (the
   * prefix on the wire): `answer` gets the message, returns the reply (or nothing: no answer).
   */
  function serve(conn: NatsConnection, subject: string, answer: (data: unknown) => object | undefined): unknown[] {
    const received: unknown[] = [];
    subs.push(
      conn.subscribe(testNaming().subject(subject), {
        callback: (_e, m) => {
          const packet = codec.decode(m.data);
          received.push(packet.data);
          const reply = answer(packet.data);
          if (reply) m.respond(JSONCodec().encode({ id: packet.id, isDisposed: true, ...reply }));
        },
      }),
    );
    return received;
  }

  it('returns the response, and turns an error reply into a DomainError with its code, message and details', async () => {
    const subject = qrySubject('identity', 'rpc-echo');
    serve(service, subject, (data) => {
      const body = (data as { body: { fail?: boolean } }).body;
      return body.fail ? { err: { code: 'NOT_FOUND', message: 'no such user', details: { userId: 'u1' } } } : { response: { echoed: data } };
    });
    await service.flush();
    const m = meta();
    expect(await callService({ nc }, subject, { hello: 1 }, m)).toEqual({ echoed: { meta: m, body: { hello: 1 } } });
    const refused = await callService({ nc }, subject, { fail: true }, meta()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).not.toBeInstanceOf(RpcFailure);
    expect(refused).toMatchObject({ code: 'NOT_FOUND', message: 'no such user', details: { userId: 'u1' } });
  });

  it('an error reply without a known code is INTERNAL, without its text', async () => {
    const subject = qrySubject('identity', 'rpc-broken');
    serve(service, subject, () => ({ err: 'TypeError: x is undefined at /srv/secret/path.js' }));
    await service.flush();
    const err = await callService({ nc }, subject, {}, meta()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
  });

  it('no instance listening: SERVICE_UNAVAILABLE at once, also for a command (nothing was done)', async () => {
    const started = Date.now();
    const err = await callService({ nc }, cmdSubject('membership', 'organization', 'nobody-listens'), {}, meta(), 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcFailure);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a command delivered but not answered in time: OUTCOME_UNKNOWN; a query: SERVICE_UNAVAILABLE', async () => {
    const command = cmdSubject('identity', 'user', 'stalled');
    const query = qrySubject('identity', 'stalled');
    const commands = serve(service, command, () => undefined);
    const queries = serve(service, query, () => undefined);
    await service.flush();
    const [c, q] = await Promise.all([
      callService({ nc }, command, { n: 1 }, meta(), 300).catch((e: unknown) => e),
      callService({ nc }, query, { n: 2 }, meta(), 300).catch((e: unknown) => e),
    ]);
    expect(c).toBeInstanceOf(RpcFailure);
    expect(c).toMatchObject({ code: 'OUTCOME_UNKNOWN', message: expect.stringMatching(/may or may not have been applied/) });
    expect(q).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect([commands.length, queries.length]).toEqual([1, 1]); // both were delivered
  });

  it('the broker down: SERVICE_UNAVAILABLE at once, and the command is never delivered, not even once the broker is back', async () => {
    const bin = findBinary('nats-server', [process.env.NATS_SERVER_BIN]);
    if (!bin) throw new Error('this test stops a broker: it needs the nats-server binary (PATH, /usr/sbin, or NATS_SERVER_BIN)');
    const storeDir = mkdtempSync(join(tmpdir(), 'nats-rpc-'));
    let broker: (LocalServer & { port: number }) | undefined = await startNatsServer(bin, storeDir);
    const client = await connectNats(broker.url, 'rpc-client-down');
    rpcClient(client, { naming: testNaming() });
    const server = await connectNats(broker.url, 'rpc-service-down');
    try {
      const subject = cmdSubject('membership', 'organization', 'create-while-down');
      const received = serve(server, subject, () => ({ response: { ok: true } }));
      await server.flush();
      expect(await rpcClient(client).request(subject, { meta: meta(), body: { before: true } }, 2000)).toEqual({ ok: true });

      const port = broker.port;
      const disconnected = (async () => {
        for await (const s of client.status()) if (s.type === Events.Disconnect) return;
      })();
      await broker.stop();
      broker = undefined;
      await disconnected;
      await sleep(50);
      const started = Date.now();
      const err = await rpcClient(client)
        .request(subject, { meta: meta(), body: { during: true } }, 2000)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RpcFailure);
      expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(500);

      broker = await startNatsServer(bin, storeDir, port);
      const back = Date.now() + 15_000;
      for (;;) {
        const ok = await rpcClient(client)
          .request(subject, { meta: meta(), body: { after: true } }, 1000)
          .then(
            () => true,
            () => false,
          );
        if (ok) break;
        if (Date.now() > back) throw new Error('the client did not reconnect');
        await sleep(200);
      }
      await sleep(300);
      const bodies = received.map((d) => (d as { body: object }).body);
      expect(bodies[0]).toEqual({ before: true });
      expect(bodies).toContainEqual({ after: true });
      expect(bodies).not.toContainEqual({ during: true });
    } finally {
      await client.close();
      await server.close();
      await broker?.stop();
      rmSync(storeDir, { recursive: true, force: true });
    }
  });
});
