import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Db } from 'mongodb';
import { bytesCodec, chunkedSnapshotStore, gunzipLines, gzipLines } from '@app/event-store';
import { SNAPSHOT_FORMAT, type OrganizationSnapshot, type PeopleSnapshot } from './people.view';

/**
 * Snapshots of the people model in membership's database, so that a replica starts from the newest one and
 * reads only the events stream after it, in the shared chunked store (`chunkedSnapshotStore`, libs/event-store):
 * the snapshot is JSON lines (FerretDB v1 refuses nested arrays in a document), gzip'ed, in chunks of at most
 * 4 MiB (`people_view_chunks`), then a head (`people_view_snapshot`); only the newest is kept.
 */
export type PeopleSnapshotStore = ReturnType<typeof peopleSnapshotStore>;

export function peopleSnapshotStore(db: Db) {
  return chunkedSnapshotStore(db, {
    name: 'people',
    heads: 'people_view_snapshot',
    chunks: 'people_view_chunks',
    codec: bytesCodec({ format: SNAPSHOT_FORMAT, sequence: (s: PeopleSnapshot) => s.sequence, encode: encodePeopleSnapshot, decode: decodePeopleSnapshot }),
    keep: 1,
  });
}

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
  return gzipLines(lines);
}

export async function decodePeopleSnapshot(bytes: Buffer): Promise<PeopleSnapshot> {
  const lines = await gunzipLines(bytes);
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
