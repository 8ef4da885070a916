import { randomUUID } from 'node:crypto';
import { DiscardPolicy, JSONCodec, nanos, RetentionPolicy, StorageType, type NatsConnection, type StreamConfig } from 'nats';
import type { Naming } from '@app/contracts';

/**
 * Read leases (docs/architecture.md "Read leases"): how a reader that answers from memory (the gateway) may skip
 * its per-request look-up of the events stream's end and still see, on the very next request, every write that
 * was in JetStream before its answer (a revocation, a new organization).
 *
 * - A reader holds a lease while it renews it every LEASE_MS / 3: it records itself in the leases stream (one
 *   message per reader), then looks up the events stream's end and makes that its floor. A lease lasts
 *   LEASE_MS from the moment before the record was sent, and ends at once when the connection drops (a fence
 *   sent meanwhile may be lost).
 * - A writer, once JetStream acked its events (`flushStream`), fences the readers: it lists the readers recorded
 *   now and sends each the acked sequence; a reader raises its floor before it answers. A reader that does not
 *   answer in time is waited out: the writer answers LEASE_MS after it listed the readers, when every lease that
 *   began before the listing has ended.
 * - A request under a lease waits until the reader applied the stream up to its floor, instead of looking up
 *   the stream's end. A reader recorded after the writer's listing looked up the end after its record, so after
 *   the writer's events: its floor holds them.
 */

/** How long a lease lasts from the moment before its renewal was sent. */
export const LEASE_MS = 3000;
/** A reader renews its lease this often. */
const RENEW_MS = LEASE_MS / 3;
/**
 * A reader's record outlives its last renewal this long: a reader that died is forgotten then (one that stops
 * removes its record), and until then every fenced write waits LEASE_MS for it. It must outlive every lease the
 * record was renewed for (LEASE_MS from before the renewal): what is not listed is not fenced.
 */
export const RECORD_TTL_MS = 5_000;
/** Clocks of two processes may run at slightly different rates: a lease counts as this much shorter. */
const DRIFT = 0.05;

const codec = JSONCodec<{ sequence: number }>();

export const readLeasesStreamName = (naming: Naming): string => naming.stream('READ_LEASES');
const recordSubject = (naming: Naming, reader: string) => naming.subject(`read-leases.${reader}`);
const fenceSubject = (naming: Naming, reader: string) => naming.subject(`read-fence.${reader}`);

/** The leases stream: one record per reader, gone RECORD_TTL_MS after its last renewal. */
export const readLeasesStreamConfig = (naming: Naming, num_replicas: number): Partial<StreamConfig> & { name: string } => ({
  name: readLeasesStreamName(naming),
  subjects: [naming.subject('read-leases.*')],
  retention: RetentionPolicy.Limits,
  storage: StorageType.File,
  discard: DiscardPolicy.Old,
  max_msgs_per_subject: 1,
  max_age: nanos(RECORD_TTL_MS),
  num_replicas,
});

/** What a fence did: how many readers it found, and how many it had to wait out (`unknown`: the listing failed). */
export interface Fence {
  readers: number;
  waitedOut: number | 'unknown';
}

/**
 * Tells every reader holding a lease that the events stream holds `sequence` (a writer's acked events), before
 * the writer answers: resolves once each has raised its floor, or once every lease that could have missed it has
 * ended (at most LEASE_MS). A namespace where no reader ever ran (no leases stream) costs one look-up.
 */
export async function fenceReaders(nc: NatsConnection, naming: Naming, sequence: number): Promise<Fence> {
  const listed = performance.now();
  const prefix = naming.subject('read-leases.');
  let readers: string[];
  try {
    const jsm = await nc.jetstreamManager({ checkAPI: false });
    const info = await jsm.streams.info(readLeasesStreamName(naming), { subjects_filter: `${prefix}*` });
    readers = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
  } catch (err) {
    // no leases stream: no reader ever ran here; else the readers are unknown, and every lease is waited out
    if (/not found/i.test((err as Error).message)) return { readers: 0, waitedOut: 0 };
    await waitOut();
    return { readers: 0, waitedOut: 'unknown' };
  }
  const answered = await Promise.all(
    readers.map((reader) =>
      nc.request(fenceSubject(naming, reader), codec.encode({ sequence }), { timeout: Math.max(1, LEASE_MS - (performance.now() - listed)) }).then(
        () => true,
        () => false,
      ),
    ),
  );
  const waitedOut = answered.filter((ok) => !ok).length;
  if (waitedOut) await waitOut();
  return { readers: readers.length, waitedOut };

  async function waitOut() {
    const left = LEASE_MS - (performance.now() - listed);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
}

export interface ReadLease {
  /** the sequence a request must wait for while the lease holds; undefined without a lease (look the end up) */
  floor(): number | undefined;
  /** ends the lease and removes the reader's record */
  stop(): Promise<void>;
}

/**
 * Holds a read lease for this process (see above). `lookUp` reads the events stream's end (linearizable: its
 * leader answers). The first renewal is awaited; without it the lease is simply not held yet. `onChange` hears
 * when the lease is lost (the connection dropped, or renewals failed until it ran out) and when it is held again.
 */
export async function holdReadLease(
  nc: NatsConnection,
  naming: Naming,
  lookUp: () => Promise<number>,
  onChange: (held: boolean, reason?: string) => void = () => undefined,
): Promise<ReadLease> {
  const reader = randomUUID();
  const js = nc.jetstream();
  let floor = 0;
  let until = 0;
  /** what `onChange` was last told (nothing before the first lease) */
  let told: boolean | undefined;
  const tell = (held: boolean, reason?: string) => {
    if (told !== undefined && told !== held) onChange(held, reason);
    if (held || told !== undefined) told = held;
  };
  /** bumped by every disconnection: a renewal begun before it does not make a lease */
  let epoch = 0;
  let stopped = false;
  const fences = nc.subscribe(fenceSubject(naming, reader), {
    callback: (err, m) => {
      if (err) return;
      floor = Math.max(floor, codec.decode(m.data).sequence);
      m.respond();
    },
  });
  void (async () => {
    for await (const s of nc.status())
      if (s.type === 'disconnect' || s.type === 'reconnect') {
        epoch++;
        until = 0;
        if (!stopped) tell(false, `the NATS connection dropped (${s.type})`);
      }
  })().catch(() => undefined);
  // the fence subscription is known to the server before the record says where to fence
  await nc.flush();

  async function renew(): Promise<void> {
    const began = performance.now();
    const at = epoch;
    await js.publish(recordSubject(naming, reader), new Uint8Array(0));
    const end = await lookUp();
    if (at !== epoch || stopped) return;
    floor = Math.max(floor, end);
    until = began + LEASE_MS * (1 - DRIFT);
    tell(true);
  }
  const renewOrTell = () =>
    renew().catch((err: Error) => {
      if (!stopped && performance.now() >= until) tell(false, `renewals fail: ${err.message}`);
    });
  const timer = setInterval(() => void renewOrTell(), RENEW_MS);
  await renewOrTell();

  return {
    floor: () => (performance.now() < until ? floor : undefined),
    async stop() {
      stopped = true;
      until = 0;
      clearInterval(timer);
      // the record first: a writer that listed this reader before gets its fence answered (no wait for it)
      try {
        const jsm = await nc.jetstreamManager({ checkAPI: false });
        await jsm.streams.purge(readLeasesStreamName(naming), { filter: recordSubject(naming, reader) });
      } catch {
        // no connection: the record expires (RECORD_TTL_MS), writers wait this reader out until then
      } finally {
        if (!nc.isClosed()) fences.unsubscribe();
      }
    },
  };
}
