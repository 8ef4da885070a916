import { randomUUID } from 'node:crypto';
import { headers, StorageType, type NatsConnection } from 'nats';
import { requireInfraEnv } from '@app/testing';
import { connectNats, jetStreamManager } from './jetstream';
import { jetStreamPublisher } from './jetstream-publisher';

/** The outbox relay's publisher against a real nats-server: acks, JetStream's refusals, no stream, no ack. */
describe('jetStreamPublisher (real NATS)', () => {
  let nc: NatsConnection;
  const prefix = `pub${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const stream = `PUB_${prefix}`;

  beforeAll(async () => {
    nc = await connectNats(requireInfraEnv().natsUrl, 'jetstream-publisher-test');
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
    await expect(publisher.publish(`nostream${prefix}.x`, new Uint8Array(1), { msgID: randomUUID(), headers: withHeader() })).rejects.toThrow(/503/);
    expect(Date.now() - began).toBeLessThan(1000);
    publisher.close();
  });

  it('rejects after its timeout when nothing acks, and close() fails what still waits', async () => {
    // a plain subscriber takes the subject and never answers: no stream, but no "no responders" either
    const silent = nc.subscribe(`silent${prefix}.x`);
    const publisher = jetStreamPublisher(nc, 200);
    await expect(publisher.publish(`silent${prefix}.x`, new Uint8Array(1), { msgID: randomUUID(), headers: withHeader() })).rejects.toThrow(
      /no ack within 200 ms/,
    );

    const slow = jetStreamPublisher(nc, 60_000);
    const waiting = slow.publish(`silent${prefix}.x`, new Uint8Array(1), { msgID: randomUUID(), headers: withHeader() });
    await nc.flush();
    slow.close();
    await expect(waiting).rejects.toThrow(/closed/);
    silent.unsubscribe();
    publisher.close();
  });
});
