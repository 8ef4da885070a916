import { JSONCodec, type JetStreamClient, type JetStreamManager } from 'nats';
import { eventsStreamName, parseEventSubject, type DomainEvent } from '@app/contracts';
import type { UpcasterRegistry } from '@app/event-store';
import { AccessView } from './access-view';

const codec = JSONCodec<DomainEvent>();
const RELEVANT = new Set(['membership', 'authorization']);

export interface RunningAccessView {
  view: AccessView;
  stop(): Promise<void>;
}

/**
 * Feeds an AccessView from the events stream with an ordered (ephemeral, per-process) consumer that starts at
 * sequence 1: every replica holds the whole view in memory and rebuilds it from the stream at start-up.
 * A durable consumer shared by replicas would split the events between them; an ordered consumer gives each
 * process every event, in order, and resumes after the last sequence it saw when it has to reconnect.
 */
export async function startAccessView(opts: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  upcasters?: UpcasterRegistry;
  timeoutMs?: number;
  /** how long start-up may take to replay the stream before the service gives up (default 5 minutes) */
  startupTimeoutMs?: number;
  logger?: { error(obj: object, msg: string): void };
  onPoison?: () => void;
}): Promise<RunningAccessView> {
  const stream = eventsStreamName();
  const view = new AccessView(async () => (await opts.jsm.streams.info(stream)).state.last_seq, opts.timeoutMs);
  const consumer = await opts.js.consumers.get(stream, {});
  const messages = await consumer.consume({ max_messages: 1000 });
  const loop = (async () => {
    for await (const msg of messages) {
      const seq = msg.info.streamSequence;
      const parsed = parseEventSubject(msg.subject);
      let event: DomainEvent | undefined;
      if (parsed && (RELEVANT.has(parsed.service) || parsed.type === 'user.username-changed')) {
        try {
          event = codec.decode(msg.data);
          if (opts.upcasters) event = opts.upcasters.upcast(event);
        } catch (err) {
          opts.logger?.error({ seq, err: (err as Error).message }, 'undecodable event skipped by the authorization view');
          opts.onPoison?.();
        }
      }
      try {
        view.ingest(event, seq);
      } catch (err) {
        // never block the view on one event: skip it (counted as a dead letter) and go on
        opts.logger?.error({ seq, err: (err as Error).message }, 'event could not be applied to the authorization view');
        opts.onPoison?.();
        view.ingest(undefined, seq);
      }
    }
  })().catch((err: Error) => opts.logger?.error({ err: err.message }, 'authorization view stopped consuming'));
  // A replica joins the queue group only with a complete view: start-up waits until the replay has reached
  // the end of the stream as it was now.
  try {
    await view.catchUp(opts.startupTimeoutMs ?? 300_000);
  } catch (err) {
    await messages.close();
    throw err;
  }
  return {
    view,
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
