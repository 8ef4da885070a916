import { connect, DiscardPolicy, nanos, RetentionPolicy, StorageType, type NatsConnection, type JetStreamManager, type StreamConfig } from 'nats';
import { readLeasesStreamConfig } from './read-leases';
import { allDeadLettersSubject, allEventsSubject, deadLetterStreamName, eventsStreamName, type Naming } from '@app/contracts';

/** Duplicate window of the events stream: a re-published event id inside it is dropped by JetStream. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

/** NATS's default max_payload, for when the client does not know the server's (not connected). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The largest message the server takes (its max_payload), as the connection knows it. */
export const maxPayload = (nc: Pick<NatsConnection, 'info'> | undefined): number => nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // no stack captured for every request (nats.js keeps one per request to name what timed out): 3 % of the
    // gateway's CPU on a people list; the code reports a timeout with its subject (rpc-client.ts) anyway
    noAsyncTraces: true,
  });
}

/** Whether every field of `wanted` has the value `current` has (a changed config needs an update). */
const sameConfig = (current: object, wanted: object) =>
  Object.entries(wanted).every(([k, v]) => JSON.stringify((current as Record<string, unknown>)[k]) === JSON.stringify(v));

/**
 * A JetStream API error that passes: a request timeout or "temporarily unavailable" while a cluster elects its
 * leaders (a fresh cluster, a node restarting), when several processes create the same replicated stream at once.
 */
const transient = (err: unknown) => /timeout|temporarily unavailable|no responders|leader/i.test((err as Error).message ?? '');

/** `fn` again (up to 8 times, about 9 s of pauses) while it fails with a transient JetStream API error. */
export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!transient(err) || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

/**
 * The JetStream manager without its check of the account (`$JS.API.INFO`), a request that times out while a
 * cluster node restarts and made a process starting meanwhile exit (cluster e2e, CI): the first real request
 * (a stream's info, retried by `streamInfo` and `ensureStreams`) says whether JetStream is there.
 */
export const jetStreamManager = (nc: NatsConnection): Promise<JetStreamManager> => nc.jetstreamManager({ checkAPI: false });

/**
 * A stream's info, asked again while the JetStream API answers with a transient error: what start-up reads first,
 * when on a fresh or restarting cluster the stream's leader may still be elected (an info then times out).
 */
export const streamInfo = (jsm: JetStreamManager, name: string) => retryTransient(() => jsm.streams.info(name));

const upsertStream = (jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) => retryTransient(() => upsertStreamOnce(jsm, config));

async function upsertStreamOnce(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  let current: StreamConfig | undefined;
  try {
    current = (await jsm.streams.info(config.name)).config;
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
  }
  // an update only when something differs: every replica of every service runs this at start, and on a
  // cluster an update is a proposal to the stream's group
  if (current) return void (sameConfig(current, config) || (await jsm.streams.update(config.name, config)));
  try {
    await jsm.streams.add(config);
  } catch (e) {
    // another process created it in between
    if (!/already in use|exists/i.test((e as Error).message)) throw e;
  }
}

export interface StreamOptions {
  /**
   * copies of each stream (and KV bucket) in a JetStream cluster: 1 on one server, 3 on a cluster of three
   * (NATS_STREAM_REPLICAS; docs/scaling.md). A stream created with another count is updated to this one.
   */
  replicas?: number;
}

/**
 * The events stream keeps every domain event (limits retention without limits) so a new consumer can
 * replay from the start; dead letters live in their own stream so they never reach `evt.>` consumers. Both in the
 * namespace `naming` (the process's configuration).
 */
export async function ensureStreams(nc: NatsConnection, naming: Naming, opts: StreamOptions = {}): Promise<void> {
  const jsm = await jetStreamManager(nc);
  const num_replicas = opts.replicas ?? 1;
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
    num_replicas,
  });
  await upsertStream(jsm, {
    name: deadLetterStreamName(naming),
    subjects: [naming.subject(allDeadLettersSubject())],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 0,
    num_replicas,
  });
  await upsertStream(jsm, readLeasesStreamConfig(naming, num_replicas));
}
