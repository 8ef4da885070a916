import { randomUUID } from 'node:crypto';
import { headers, StorageType, type NatsConnection } from 'nats';
import { requireInfraEnv } from '@app/testing';
import { connectNats, jetStreamManager } from './jetstream';
import { inboxRequester, jetStreamPublisher, lastSequenceOf } from './inbox-requests';
import { isTransientFailure } from './rpc';

/** Requests answered on one inbox subscription, against a real nats-server: the relay's publishes (acks, JetStream's refusals, no stream, no ack) and the read index. */
describe("inbox requests: the relay's publisher and the read index (real NATS)", () => {
  let nc: NatsConnection;
  const prefix = `pub${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const stream = `PUB_${prefix}`;

  beforeAll(async () => {
    nc = await connectNats(requireInfraEnv().natsUrl, 'inbox-requests-test');
    const jsm = await jetStreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], storage: StorageType.Memory, max_msg_size: 1024, duplicate_window: 60e9 });
  });

  afterAll(async () => {
    await (await jetStreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  const withHeader = () => {
    const h = headers();
    h.set('Correlation-Id', 'c-1');
    return h;
  };

  it('resolves each publish with its ack, in the order sent; a repeated msg id is a duplicate; the headers are stored', async () => {
    const publisher = jetStreamPublisher(nc);
    const data = (n: number) => new TextEncoder().encode(`event ${n}`);
    const acks = await Promise.all([1, 2, 3].map((n) => publisher.publish(`${prefix}.a`, data(n), { msgID: `id-${n}`, headers: withHeader() })));
    expect(acks.map((a) => a.stream)).toEqual([stream, stream, stream]);
    expect(acks[1].seq).toBe(acks[0].seq + 1);
    expect(acks[2].seq).toBe(acks[0].seq + 2);
    expect(acks.map((a) => a.duplicate)).toEqual([false, false, false]);

    const again = await publisher.publish(`${prefix}.a`, data(2), { msgID: 'id-2', headers: withHeader() });
    expect(again).toMatchObject({ seq: acks[1].seq, duplicate: true });

    const stored = await (await jetStreamManager(nc)).streams.getMessage(stream, { seq: acks[2].seq });
    expect(stored.header.get('Nats-Msg-Id')).toBe('id-3');
    expect(stored.header.get('Correlation-Id')).toBe('c-1');
    expect(new TextDecoder().decode(stored.data)).toBe('event 3');
    publisher.close();
  });

  it("rejects with JetStream's error when it refuses a message (larger than the stream's max_msg_size)", async () => {
    const publisher = jetStreamPublisher(nc);
    await expect(publisher.publish(`${prefix}.big`, new Uint8Array(2048), { msgID: randomUUID(), headers: withHeader() })).rejects.toThrow(/maximum/i);
    publisher.close();
  });

  it('rejects at once when no stream takes the subject (no responders)', async () => {
    const publisher = jetStreamPublisher(nc);
    const began = Date.now();
    const err = await publisher.publish(`nostream${prefix}.x`, new Uint8Array(1), { msgID: randomUUID(), headers: withHeader() }).catch((e: Error) => e);
    expect(Date.now() - began).toBeLessThan(1000);
    expect((err as Error).message).toMatch(/503 no responders: nostream/);
    expect(isTransientFailure(err)).toBe(true); // as nc.request's: a service answers 503, not 500
    publisher.close();
  });

  it('rejects after its timeout when nothing acks, and close() fails what still waits', async () => {
    // a plain subscriber takes the subject and never answers: no stream, but no "no responders" either
    const silent = nc.subscribe(`silent${prefix}.x`);
    const publisher = jetStreamPublisher(nc, 200);
    await expect(publisher.publish(`silent${prefix}.x`, new Uint8Array(1), { msgID: randomUUID(), headers: withHeader() })).rejects.toThrow(
      /no reply within 200 ms/,
    );

    const slow = jetStreamPublisher(nc, 60_000);
    const waiting = slow.publish(`silent${prefix}.x`, new Uint8Array(1), { msgID: randomUUID(), headers: withHeader() });
    await nc.flush();
    slow.close();
    await expect(waiting).rejects.toThrow(/closed/);
    silent.unsubscribe();
    publisher.close();
  });

  it("reads a stream's last sequence as jsm.streams.info does, and fails on a stream that does not exist", async () => {
    const jsm = await jetStreamManager(nc);
    expect(await lastSequenceOf(jsm, stream)).toBe((await jsm.streams.info(stream)).state.last_seq);
    await jetStreamPublisher(nc).publish(`${prefix}.b`, new Uint8Array(1), { msgID: randomUUID(), headers: withHeader() });
    expect(await lastSequenceOf(jsm, stream)).toBe((await jsm.streams.info(stream)).state.last_seq);
    await expect(lastSequenceOf(jsm, `NOPE_${prefix}`)).rejects.toThrow(/stream not found/);
  });

  it('answers each request with its own reply when replies come back out of order', async () => {
    const echo = nc.subscribe(`echo${prefix}`, {
      callback: (_e, m) => setTimeout(() => m.respond(m.data), m.data[0]), // the first asked is answered last
    });
    const requester = inboxRequester(nc);
    const replies = await Promise.all([30, 20, 10, 0].map((delay) => requester.request(`echo${prefix}`, new Uint8Array([delay]))));
    expect(replies.map((r) => r.data[0])).toEqual([30, 20, 10, 0]);
    requester.close();
    echo.unsubscribe();
  });
});
