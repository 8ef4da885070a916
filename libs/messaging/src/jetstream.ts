import { connect, DiscardPolicy, nanos, RetentionPolicy, StorageType, type NatsConnection, type JetStreamManager, type StreamConfig } from 'nats';
import { allDeadLettersSubject, allEventsSubject, deadLetterStreamName, eventsStreamName, type Naming } from '@app/contracts';

/** Duplicate window of the events stream: a re-published event id inside it is dropped by JetStream. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
}

async function upsertStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
    try {
      await jsm.streams.add(config);
    } catch (e) {
      // another process created it in between
      if (!/already in use|exists/i.test((e as Error).message)) throw e;
    }
  }
}

/**
 * The events stream keeps every domain event (limits retention without limits) so a new consumer can
 * replay from the start; dead letters live in their own stream so they never reach `evt.>` consumers. Both in the
 * namespace `naming` (the process's configuration).
 */
export async function ensureStreams(nc: NatsConnection, naming: Naming): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await upsertStream(jsm, {
    name: eventsStreamName(naming),
    subjects: [naming.subject(allEventsSubject())],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  await upsertStream(jsm, {
    name: deadLetterStreamName(naming),
    subjects: [naming.subject(allDeadLettersSubject())],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 0,
  });
}
