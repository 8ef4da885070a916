import { createInbox, type MsgHdrs, type NatsConnection, type PubAck, type Subscription } from 'nats';

/** How long a publish waits for JetStream's ack (nats.js's `js.publish` default). */
export const PUBLISH_ACK_TIMEOUT_MS = 5_000;

/** A JetStream publish: the message is stored once JetStream acks it (`Nats-Msg-Id`: a repeat inside the duplicate window is dropped). */
export type JetStreamPublish = (subject: string, data: Uint8Array, opts: { msgID: string; headers: MsgHdrs }) => Promise<PubAck>;

export interface JetStreamPublisher {
  publish: JetStreamPublish;
  /** Ends the ack subscription; publishes still waiting fail. */
  close(): void;
}

interface Waiting {
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * JetStream publishes whose acks come back on one subscription of this publisher: each publish is a plain
 * NATS publish with a reply subject under its inbox, and the ack (or JetStream's error, or the server's "no
 * responders" when no stream takes the subject) settles it. nats.js's `js.publish` is a request per message:
 * a request object, a timer, and an error object built to cancel it once answered, and an ack decoded
 * through its JetStream client; that cost the outbox relay about 40 µs of CPU per event where this costs
 * about 18 (nats-server 2.9, one connection, batches of 10), which showed in `bench:append` as appends
 * slowed by the relay. Messages go out on the connection in the order of the calls, as with `js.publish`.
 */
export function jetStreamPublisher(nc: NatsConnection, timeoutMs = PUBLISH_ACK_TIMEOUT_MS): JetStreamPublisher {
  const inbox = createInbox();
  const waiting = new Map<string, Waiting>();
  let next = 0;
  let sub: Subscription | undefined;
  const settle = (reply: string): Waiting | undefined => {
    const w = waiting.get(reply);
    if (!w) return undefined;
    waiting.delete(reply);
    clearTimeout(w.timer);
    return w;
  };
  const failAll = (err: Error) => {
    for (const reply of [...waiting.keys()]) settle(reply)?.reject(err);
  };
  const subscribe = () => {
    const s = nc.subscribe(`${inbox}.*`, {
      callback: (err, m) => {
        if (err) return failAll(err);
        const w = settle(m.subject);
        if (!w) return;
        // a status message: 503 when no stream takes the subject
        if (m.headers?.code && !m.data.length)
          return w.reject(new Error(`JetStream publish failed: ${m.headers.code} ${m.headers.description || 'no responders'}`));
        try {
          const ack = JSON.parse(Buffer.from(m.data).toString('utf8')) as PubAck & { error?: { code: number; description: string } };
          if (ack.error) return w.reject(new Error(`JetStream publish failed: ${ack.error.code} ${ack.error.description}`));
          w.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true, domain: ack.domain ?? '' });
        } catch (e) {
          w.reject(e as Error);
        }
      },
    });
    void s.closed.then(() => {
      if (sub === s) sub = undefined;
      failAll(new Error('JetStream publish: the ack subscription closed'));
    });
    return s;
  };
  return {
    publish(subject, data, { msgID, headers }) {
      try {
        sub ??= subscribe();
        const reply = `${inbox}.${next++}`;
        const acked = new Promise<PubAck>((resolve, reject) => {
          const timer = setTimeout(() => settle(reply)?.reject(new Error(`JetStream publish to ${subject}: no ack within ${timeoutMs} ms`)), timeoutMs);
          waiting.set(reply, { resolve, reject, timer });
        });
        headers.set('Nats-Msg-Id', msgID);
        try {
          nc.publish(subject, data, { reply, headers });
        } catch (err) {
          settle(reply)?.reject(err as Error);
        }
        return acked;
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    close() {
      sub?.unsubscribe();
      sub = undefined;
      failAll(new Error('JetStream publish: the publisher closed'));
    },
  };
}
