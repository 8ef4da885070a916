/**
 * The organizations bench/people and bench/console-people measure: `members` members and `groups` groups, made
 * by publishing the events membership publishes (`organization.member-added`, then `group.created` with each
 * group's members) to the events stream, so membership's people view folds them as it folds any event.
 * Names come from small lists so that a name prefix matches 1 in 20 (`maria.silva.000042`).
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { JSONCodec, connect } from 'nats';
import { builtInRoleId, catalogueEvent, eventMetadata, evtSubject, systemMeta, type CatalogueEvent, type DomainEvent } from '@app/contracts';
import { organizationStreamId } from '../../apps/membership/src/organization/organization.state';

export const FIRST = [
  'Maria',
  'John',
  'Aiko',
  'Pedro',
  'Olga',
  'Wei',
  'Fatima',
  'Liam',
  'Noor',
  'Sven',
  'Chloe',
  'Ravi',
  'Ines',
  'Tomas',
  'Yara',
  'Kofi',
  'Lena',
  'Mateo',
  'Hana',
  'Igor',
];
export const LAST = ['Silva', 'Smith', 'Tanaka', 'Garcia', 'Ivanova', 'Chen', 'Khan', 'Murphy', 'Haddad', 'Berg'];

export const userIdOf = (organizationId: string, i: number) => `${organizationId.slice(0, 24)}${String(i + 100_000).padStart(12, '0')}`;
export const groupIdOf = (organizationId: string, g: number) => `${organizationId.slice(0, 24)}${String(g).padStart(12, '0')}`;
const firstOf = (i: number) => FIRST[i % FIRST.length];
const lastOf = (i: number) => LAST[Math.floor(i / FIRST.length) % LAST.length];
/** the name in the username (no identity events are published): `maria.silva.000042` */
export const usernameOf = (i: number) => `${firstOf(i)}.${lastOf(i)}.${String(i).padStart(6, '0')}`.toLowerCase();

/** The events that make `members` members and `groups` groups (each user in one or two), as membership publishes them. */
export function* seedEvents(organizationId: string, members: number, groups: number, profiles: boolean): Generator<DomainEvent> {
  const member = builtInRoleId(organizationId, 'member');
  const streamId = organizationStreamId(organizationId);
  const meta = eventMetadata(systemMeta('bench-seed'));
  let version = 1000;
  const envelope = (service: 'membership' | 'identity', type: string, data: Record<string, unknown>, scoped = true): DomainEvent => ({
    id: randomUUID(),
    type,
    version: 1,
    streamId: scoped ? streamId : `user-${String(data.userId)}`,
    streamVersion: scoped ? ++version : 1,
    service,
    occurredAt: new Date().toISOString(),
    ...(scoped ? { organizationId } : {}),
    data,
    metadata: meta,
  });
  const groupMembers: string[][] = Array.from({ length: groups }, () => []);
  for (let i = 0; i < members; i++) {
    const userId = userIdOf(organizationId, i);
    if (profiles)
      yield envelope(
        'identity',
        'user.created',
        {
          userId,
          username: `user${i}`,
          email: `user${i}@bench.example`,
          name: `${firstOf(i)} ${lastOf(i)}`,
          createdBy: 'organization',
          managedByOrganizationId: organizationId,
          temporaryPassword: true,
        },
        false,
      );
    yield envelope('membership', 'organization.member-added', {
      organizationId,
      userId,
      username: profiles ? `user${i}` : usernameOf(i),
      roleId: member,
      via: 'account',
    });
    if (groups) for (const g of new Set([i % groups, ...(i % 3 === 0 ? [(i * 7 + 1) % groups] : [])])) groupMembers[g].push(userId);
  }
  for (let g = 0; g < groups; g++)
    yield envelope('membership', 'group.created', {
      organizationId,
      groupId: groupIdOf(organizationId, g),
      name: `Team ${g}`,
      description: '',
      memberIds: groupMembers[g],
      roleId: member,
    });
}

/** Publishes the events to JetStream as the relay does (subject, msg id), many in flight. */
export async function publish(natsUrl: string, events: Iterable<DomainEvent>): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  const js = nc.jetstream();
  const codec = JSONCodec<CatalogueEvent>();
  let inFlight: Array<Promise<unknown>> = [];
  let n = 0;
  for (const e of events) {
    const event = catalogueEvent(e);
    inFlight.push(
      js.publish(`${process.env.TEST_SUBJECT_PREFIX}${evtSubject('membership', event.type, event.version)}`, codec.encode(event), {
        msgID: event.id,
        timeout: 60_000,
      }),
    );
    n++;
    if (inFlight.length >= 200) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  await nc.close();
  return n;
}

/** Waits until the list answers 200 with `want` people for `query` (the view has applied the seeding). */
export async function waitForList(url: string, token: string, want: (items: number) => boolean, timeoutMs = 600_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    if (res.status === 200 && want(((await res.json()) as { items: unknown[] }).items.length)) return;
    if (res.status !== 200) await res.text();
    if (Date.now() > until) throw new Error(`${url} did not answer in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Waits (at most `timeoutMs`) until membership's people view (database `db`) has written a snapshot within
 * 10,000 events of `published`: it writes one 10,000 events past the last, once idle, and the write holds the
 * event loop, so a measurement starts after it (steady state). The snapshot's sequence.
 */
export async function waitForPeopleSnapshot(db: Db, published: number, timeoutMs = 120_000): Promise<number> {
  // the newest head of the view's snapshot store (one per snapshot; people.snapshot.ts)
  const head = async () =>
    (await db.collection<{ _id: string; sequence: number }>('people_view_snapshot').find({}).sort({ sequence: -1 }).limit(1).next())?.sequence ?? 0;
  const until = Date.now() + timeoutMs;
  while ((await head()) < published - 10_000 && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
  return head();
}
