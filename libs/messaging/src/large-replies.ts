import { randomUUID } from 'node:crypto';
import { headers, nanos, StorageType, type MsgHdrs, type NatsConnection, type ObjectStore } from 'nats';
import { ErrorCode, kvBucketName, type Naming } from '@app/contracts';

/**
 * Replies larger than one NATS message (docs/architecture.md "Replies larger than one message"). The service puts
 * the reply's bytes, the whole Nest envelope, into an object store (nats.js cuts it into chunks) and answers a small
 * message that names the object in this header; the caller reads the object, takes its bytes as the reply, and
 * deletes it. A caller that does not know the header reads an `INTERNAL` error reply, never the marker as a response.
 */
export const LARGE_REPLY_HEADER = 'Large-Reply';
/** How long an object no caller read stays (a caller that timed out, or died) */
export const LARGE_REPLY_TTL_MS = 60_000;

const stores = new WeakMap<NatsConnection, Promise<ObjectStore>>();

/** The installation's large-replies object store on this connection (created on first use, in memory, with a TTL). */
export function largeReplies(nc: NatsConnection, naming: Naming, replicas = 1): Promise<ObjectStore> {
  let store = stores.get(nc);
  if (!store) {
    store = nc.jetstream().views.os(kvBucketName(naming, 'LARGE_REPLIES'), { ttl: nanos(LARGE_REPLY_TTL_MS), storage: StorageType.Memory, replicas });
    store.catch(() => stores.delete(nc));
    stores.set(nc, store);
  }
  return store;
}

const encoder = new TextEncoder();

/**
 * Stores `data` (a serialized reply) and returns the small message that stands for it: its bytes and headers.
 * A store that fails (its stream lost, e.g. a memory stream after the server restarted) is opened again, once.
 */
export async function storeLargeReply(
  nc: NatsConnection,
  naming: Naming,
  replicas: number,
  id: string,
  data: Uint8Array,
): Promise<{ data: Uint8Array; headers: MsgHdrs }> {
  const name = randomUUID();
  try {
    await (await largeReplies(nc, naming, replicas)).putBlob({ name }, data);
  } catch {
    stores.delete(nc);
    await (await largeReplies(nc, naming, replicas)).putBlob({ name }, data);
  }
  const h = headers();
  h.set(LARGE_REPLY_HEADER, name);
  const marker = { id, isDisposed: true, err: { code: ErrorCode.INTERNAL, message: `the answer is the object ${name} of the large-replies store` } };
  return { data: encoder.encode(JSON.stringify(marker)), headers: h };
}

/** The reply's bytes: the message's own, or the object its Large-Reply header names (read once, then deleted). */
export async function replyBytes(nc: NatsConnection, naming: Naming | undefined, msg: { data: Uint8Array; headers?: MsgHdrs }): Promise<Uint8Array> {
  const name = msg.headers?.get(LARGE_REPLY_HEADER);
  if (!name || !naming) return msg.data;
  const store = await largeReplies(nc, naming);
  // a follower may answer a read (the store allows direct gets) before it has the object: asked again briefly
  let data: Uint8Array | null = null;
  for (let tries = 0; !data && tries < 5; tries++) {
    if (tries) await new Promise((r) => setTimeout(r, 20));
    data = await store.getBlob(name);
  }
  if (!data) throw new Error(`the large reply ${name} is gone`);
  void store.delete(name).catch(() => undefined);
  return data;
}
