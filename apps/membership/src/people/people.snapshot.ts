import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Binary, type Db } from 'mongodb';
import { SNAPSHOT_FORMAT, type OrganizationSnapshot, type PeopleSnapshot } from './people.view';

/**
 * Snapshots of the people model in membership's database, so that a replica starts from the newest one and
 * reads only the events stream after it. The snapshot is JSON (FerretDB v1 refuses nested arrays in a
 * document), gzip'ed, in chunks of at most 4 MB (`people_view_chunks`, `_id` `<snapshot>:<i>`: a document is
 * limited to 16 MB), then one head document (`people_view_snapshot`, `_id` `head`) naming the newest one;
 * only `_id` look-ups. The head is written last: chunks without it are never read, and removed later.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** chunks of a snapshot that is not the head's, older than this, belong to an older or a dead writer: removed */
const STALE_MS = 10 * 60_000;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface PeopleSnapshotHead {
  _id: 'head';
  snapshot: string;
  format: number;
  sequence: number;
  /** the events stream's creation time: a stream made again restarts its sequences */
  streamCreated: string;
  chunks: number;
  bytes: number;
}

interface Chunk {
  _id: string;
  snapshot: string;
  data: Binary;
  createdAt: Date;
}

const heads = (db: Db) => db.collection<PeopleSnapshotHead>('people_view_snapshot');
const chunks = (db: Db) => db.collection<Chunk>('people_view_chunks');

/** people per line: a line is stringified in one go, which holds the event loop (~10 ms for 10,000 people) */
const PEOPLE_PER_LINE = 10_000;

/**
 * A header line, the users in lines of PEOPLE_PER_LINE, then per organization a line without its people and its
 * people in lines of PEOPLE_PER_LINE;
 * the event loop gets a turn between lines (an organization of 100,000 in one line held it ~100 ms).
 */
export async function encodePeopleSnapshot(s: PeopleSnapshot): Promise<Buffer> {
  const userLines = Math.ceil(s.users.length / PEOPLE_PER_LINE);
  const lines = [JSON.stringify({ format: s.format, sequence: s.sequence, orgs: s.orgs.length, users: userLines, roleNames: s.roleNames })];
  for (let i = 0; i < userLines; i++) {
    lines.push(JSON.stringify(s.users.slice(i * PEOPLE_PER_LINE, (i + 1) * PEOPLE_PER_LINE)));
    await yieldToEventLoop();
  }
  for (const org of s.orgs) {
    const chunks = Math.ceil(org.people.length / PEOPLE_PER_LINE);
    lines.push(JSON.stringify({ ...org, people: chunks }));
    for (let i = 0; i < chunks; i++) {
      lines.push(JSON.stringify(org.people.slice(i * PEOPLE_PER_LINE, (i + 1) * PEOPLE_PER_LINE)));
      await yieldToEventLoop();
    }
  }
  return gzipAsync(Buffer.from(lines.join('\n'), 'utf8'), { level: 1 });
}

export async function decodePeopleSnapshot(bytes: Buffer): Promise<PeopleSnapshot> {
  const lines = (await gunzipAsync(bytes)).toString('utf8').split('\n');
  const header = JSON.parse(lines[0]) as Omit<PeopleSnapshot, 'orgs' | 'users'> & { orgs: number; users: number };
  if (header.format !== SNAPSHOT_FORMAT) throw new Error(`unknown people snapshot format ${header.format}`);
  let at = 1;
  const users: PeopleSnapshot['users'] = [];
  for (let i = 0; i < header.users; i++) users.push(...(JSON.parse(lines[at++]) as PeopleSnapshot['users']));
  const orgs: OrganizationSnapshot[] = [];
  for (let o = 0; o < header.orgs; o++) {
    if (at >= lines.length) throw new Error(`snapshot holds ${o} organizations, its header says ${header.orgs}`);
    const org = JSON.parse(lines[at++]) as Omit<OrganizationSnapshot, 'people'> & { people: number };
    const people: OrganizationSnapshot['people'] = [];
    for (let i = 0; i < org.people; i++) people.push(...(JSON.parse(lines[at++]) as OrganizationSnapshot['people']));
    orgs.push({ ...org, people });
  }
  if (at !== lines.length) throw new Error(`snapshot has ${lines.length - at} lines more than its header says`);
  return { ...header, users, orgs };
}

/** Writes the snapshot and makes it the head, unless the head is as new already (another replica). */
export async function writePeopleSnapshot(db: Db, s: PeopleSnapshot, streamCreated: string): Promise<PeopleSnapshotHead | undefined> {
  const bytes = await encodePeopleSnapshot(s);
  const snapshot = randomUUID();
  const count = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
  const createdAt = new Date();
  const current = await heads(db).findOne({ _id: 'head' });
  if (current && current.streamCreated === streamCreated && current.sequence >= s.sequence) return undefined;
  for (let i = 0; i < count; i++)
    await chunks(db).insertOne({ _id: `${snapshot}:${i}`, snapshot, data: new Binary(bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)), createdAt });
  const head: PeopleSnapshotHead = { _id: 'head', snapshot, format: s.format, sequence: s.sequence, streamCreated, chunks: count, bytes: bytes.length };
  await heads(db).replaceOne({ _id: 'head' }, head, { upsert: true });
  // the previous head's chunks, and those of writers that died or lost a race (a small collection)
  await chunks(db).deleteMany({ snapshot: { $ne: snapshot }, createdAt: { $lt: new Date(Date.now() - STALE_MS) } });
  if (current) await chunks(db).deleteMany({ _id: { $in: Array.from({ length: current.chunks }, (_, i) => `${current.snapshot}:${i}`) } });
  return head;
}

/**
 * The newest snapshot of this stream, or undefined (none, another stream's, another format, beyond the
 * stream's end, incomplete: replay from the start). Read again once when its chunks went away meanwhile.
 */
export async function loadPeopleSnapshot(
  db: Db,
  stream: { created: string; lastSequence: number },
  logger?: { warn(obj: object, msg: string): void },
): Promise<PeopleSnapshot | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const head = await heads(db).findOne({ _id: 'head' });
    if (!head) return undefined;
    const skip = (reason: string) => logger?.warn({ snapshot: head.snapshot, sequence: head.sequence, reason }, 'people snapshot ignored');
    if (head.format !== SNAPSHOT_FORMAT) return void skip(`format ${head.format}, this version reads ${SNAPSHOT_FORMAT}`);
    if (head.streamCreated !== stream.created || head.sequence > stream.lastSequence) return void skip('written for another events stream');
    const parts = await Promise.all(Array.from({ length: head.chunks }, (_, i) => chunks(db).findOne({ _id: `${head.snapshot}:${i}` })));
    if (parts.some((p) => !p)) continue;
    const bytes = Buffer.concat(parts.map((p) => Buffer.from(p!.data.buffer)));
    if (bytes.length !== head.bytes) return void skip('length mismatch');
    const snapshot = await decodePeopleSnapshot(bytes);
    if (snapshot.sequence !== head.sequence) return void skip(`holds sequence ${snapshot.sequence}, its head says ${head.sequence}`);
    return snapshot;
  }
  return undefined;
}
