import { Module } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import { eventsStreamName, qrySubject, subjectNaming, systemMeta, type HealthReply } from '@app/contracts';
import { rpcClient } from '@app/messaging';
import { startService, type RunningService } from '@app/platform';
import { appendStream, fileNamespace, requireInfraEnv, serviceTestConfig, testDatabaseName } from '@app/testing';

/**
 * The subject prefix is configuration: two installations on one NATS server, each configured only through its
 * config object (NATS_SUBJECT_PREFIX of the config; the environment has no such variable: test/jest/setup-env.ts
 * removes it), answer only their own requests and publish only to their own streams.
 */
@Module({})
class EmptyModule {}

describe('subject prefix from the config (two installations on one NATS server)', () => {
  const prefixes = { a: `a${fileNamespace()}.`, b: `b${fileNamespace()}.` };
  const running: Partial<Record<'a' | 'b', RunningService>> = {};
  let nc: NatsConnection;

  beforeAll(async () => {
    // nothing in the environment names a namespace: only the configs do
    expect(Object.keys(process.env)).not.toContain('NATS_SUBJECT_PREFIX');
    for (const name of ['a', 'b'] as const)
      running[name] = await startService(
        serviceTestConfig('identity', { NATS_SUBJECT_PREFIX: prefixes[name], MONGO_DB: testDatabaseName(`identity_${name}`) }),
        EmptyModule,
      );
    nc = await connect({ servers: requireInfraEnv().natsUrl });
  });

  afterAll(async () => {
    await running.a?.close();
    await running.b?.close();
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for (const prefix of Object.values(prefixes))
        for (const stream of ['EVENTS', 'DEADLETTER']) await jsm.streams.delete(subjectNaming(prefix).stream(stream)).catch(() => false);
      await nc.close();
    }
  });

  it('each one answers the requests of its own namespace only, and a client configured with a namespace reaches that one', async () => {
    const health = qrySubject('identity', 'health');
    // a client in b's namespace reaches b
    const b = await connect({ servers: requireInfraEnv().natsUrl });
    try {
      rpcClient(b, { naming: subjectNaming(prefixes.b) });
      expect(await rpcClient(b).request<HealthReply>(health, { meta: systemMeta('ns-b'), body: {} }, 5000)).toMatchObject({ service: 'identity', ok: true });
      // the wire: b's subject has b's prefix; nothing answers the unprefixed subject (nor the old test environment's kind of prefix)
      const subs = await nc.request(
        `${prefixes.b}${health}`,
        new TextEncoder().encode(JSON.stringify({ pattern: health, id: '1', data: { meta: systemMeta('raw'), body: {} } })),
        {
          timeout: 5000,
        },
      );
      expect(JSON.parse(new TextDecoder().decode(subs.data))).toMatchObject({ response: { service: 'identity' } });
      for (const subject of [health, `elsewhere.${health}`])
        await expect(nc.request(subject, new Uint8Array(), { timeout: 2000 })).rejects.toMatchObject({ code: '503' });

      // once b stops, a client in b's namespace finds no responder, though a still answers in its own
      await running.b!.close();
      running.b = undefined;
      await expect(rpcClient(b).request(health, { meta: systemMeta('ns-b-gone'), body: {} }, 2000)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      const a = running.a!.infra;
      expect(await rpcClient(a.nc).request<HealthReply>(health, { meta: systemMeta('ns-a'), body: {} }, 5000)).toMatchObject({ service: 'identity', ok: true });
    } finally {
      await b.close();
    }
  });

  it("events go to the stream of the publisher's namespace only", async () => {
    const a = running.a!.infra;
    const jsm = await nc.jetstreamManager();
    const last = async (prefix: string) => (await jsm.streams.info(eventsStreamName(subjectNaming(prefix)))).state.last_seq;
    const before = { a: await last(prefixes.a), b: await last(prefixes.b) };
    const [event] = await appendStream(a.store, 1, 1);
    await a.relay.flushStream(event.streamId);
    expect(await last(prefixes.a)).toBe(before.a + 1);
    expect(await last(prefixes.b)).toBe(before.b);
    const stored = await jsm.streams.getMessage(eventsStreamName(subjectNaming(prefixes.a)), { seq: before.a + 1 });
    expect(stored.subject).toBe(`${prefixes.a}evt.identity.user.screen-name-changed.v1`);
    // nothing was created in another namespace
    await expect(jsm.streams.info(eventsStreamName(subjectNaming('elsewhere.')))).rejects.toThrow(/not found/i);
  });
});
