import type { Db } from 'mongodb';
import { allEventsSubject, type DomainEvent } from '@app/contracts';
import { isDuplicateKey, runProjection, type RunningProjection } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import {
  groupMembers,
  groupPersonDocument,
  orgMeta,
  orgVersions,
  peopleOf,
  personKeyId,
  personKeys,
  positionKey,
  roleNames,
  searchTerms,
  userPersonDocument,
  usersView,
  type PersonDocument,
} from './people.model';
import { indexPerson, unindexPerson } from './people.search';

export const PEOPLE_PROJECTION = 'membership-people';

const ignoreDuplicate = (err: unknown) => {
  if (!isDuplicateKey(err)) throw err;
};

async function personKeyOf(db: Db, organizationId: string, subjectId: string): Promise<string | undefined> {
  return (await personKeys(db).findOne({ _id: personKeyId(organizationId, subjectId) }))?.key;
}

async function updatePerson(db: Db, organizationId: string, subjectId: string, update: Partial<PersonDocument> | object, raw = false): Promise<void> {
  const key = await personKeyOf(db, organizationId, subjectId);
  if (key) await peopleOf(db, organizationId).updateOne({ _id: key }, raw ? update : { $set: update });
}

/** document, search index, then the key: a re-applied event finds no key and completes what is missing */
async function insertPerson(db: Db, organizationId: string, doc: PersonDocument): Promise<void> {
  if (await personKeyOf(db, organizationId, doc.id)) return; // applied before
  await peopleOf(db, organizationId).insertOne(doc).catch(ignoreDuplicate);
  await indexPerson(db, organizationId, doc._id, doc.search);
  await personKeys(db)
    .insertOne({ _id: personKeyId(organizationId, doc.id), key: doc._id })
    .catch(ignoreDuplicate);
}

async function removePerson(db: Db, organizationId: string, subjectId: string): Promise<void> {
  const key = await personKeyOf(db, organizationId, subjectId);
  if (key) {
    const doc = await peopleOf(db, organizationId).findOne({ _id: key });
    if (doc) await unindexPerson(db, organizationId, key, doc.search);
    await peopleOf(db, organizationId).deleteOne({ _id: key });
  }
  await personKeys(db).deleteOne({ _id: personKeyId(organizationId, subjectId) });
}

/** a change of name, username or email: the search index follows the new terms */
async function renamePerson(db: Db, organizationId: string, subjectId: string, change: Partial<PersonDocument> & { search: string[] }): Promise<void> {
  const key = await personKeyOf(db, organizationId, subjectId);
  const doc = key ? await peopleOf(db, organizationId).findOne({ _id: key }) : null;
  if (!key || !doc) return;
  if (doc.search.join('\n') !== change.search.join('\n')) {
    await unindexPerson(db, organizationId, key, doc.search);
    await indexPerson(db, organizationId, key, change.search);
  }
  await peopleOf(db, organizationId).updateOne({ _id: key }, { $set: change });
}

/** identity changed a profile: copy it into every organization the user belongs to */
async function refreshProfile(db: Db, userId: string, change: { username?: string; name?: string; email?: string }): Promise<void> {
  await usersView(db).updateOne({ _id: userId }, { $set: change, $setOnInsert: { orgIds: [] } }, { upsert: true });
  const user = await usersView(db).findOne({ _id: userId });
  if (!user) return;
  for (const organizationId of user.orgIds ?? []) {
    await renamePerson(db, organizationId, userId, {
      ...(user.username ? { username: user.username } : {}),
      ...(user.name ? { name: user.name } : {}),
      ...(user.email ? { email: user.email } : {}),
      search: searchTerms(user),
    });
  }
}

/** events that change `organizations_view`: they bump the organization's version (queries cache by it) */
const META_EVENTS = new Set([
  'organization.created',
  'group.created',
  'group.details-changed',
  'group.deleted',
  'project.created',
  'project.owner-changed',
  'project.deleted',
  'role.assigned',
  'organization.bindings-imported',
]);

const SIZE_CHANGES: Record<string, number> = {
  'organization.member-added': 1,
  'group.created': 1,
  'organization.member-removed': -1,
  'group.deleted': -1,
};

/** The subject's organization role: its document, and for a group the organization view's copy. */
async function setOrganizationRole(db: Db, organizationId: string, subjectType: string, subjectId: string, roleId: string): Promise<void> {
  await updatePerson(db, organizationId, subjectId, { roleId });
  if (subjectType === 'group')
    await orgMeta(db).updateOne({ _id: organizationId, [`groups.${subjectId}`]: { $exists: true } }, { $set: { [`groups.${subjectId}.roleId`]: roleId } });
}

/**
 * Applies one event of any service to the read model. Idempotent: inserts are skipped when the subject is
 * already there, the rest are `$set`/`$addToSet`/`$pull`/`$unset` of the event's values.
 */
export async function applyPeopleEvent(db: Db, event: DomainEvent, seq: number): Promise<void> {
  await applyEvent(db, event, seq);
  const orgId = ((event.data as { organizationId?: string }).organizationId ?? event.organizationId) as string | undefined;
  const size = SIZE_CHANGES[event.type] ?? 0;
  if (orgId && (META_EVENTS.has(event.type) || size)) await orgVersions(db).updateOne({ _id: orgId }, { $inc: { v: 1, n: size } }, { upsert: true });
}

async function applyEvent(db: Db, event: DomainEvent, seq: number): Promise<void> {
  const d = event.data as Record<string, unknown>;
  const orgId = (d.organizationId as string) ?? event.organizationId;
  switch (event.type) {
    case 'organization.created':
      await orgMeta(db)
        .updateOne(
          { _id: orgId },
          { $setOnInsert: { name: d.name as string, slug: d.slug as string, createdAt: event.occurredAt, groups: {}, projects: {} } },
          { upsert: true },
        )
        .catch(ignoreDuplicate);
      return;

    case 'organization.member-added': {
      const userId = d.userId as string;
      const profile = await usersView(db).findOne({ _id: userId });
      await insertPerson(
        db,
        orgId,
        userPersonDocument(positionKey(seq), {
          userId,
          username: profile?.username ?? (d.username as string),
          name: profile?.name,
          email: profile?.email,
          roleId: d.roleId as string,
        }),
      );
      await usersView(db).updateOne({ _id: userId }, { $addToSet: { orgIds: orgId } }, { upsert: true });
      return;
    }

    case 'organization.member-removed': {
      const userId = d.userId as string;
      await removePerson(db, orgId, userId);
      await usersView(db).updateOne({ _id: userId }, { $pull: { orgIds: orgId } });
      for (const groupId of d.groupIds as string[]) await groupMembers(db).updateOne({ _id: groupId }, { $pull: { memberIds: userId } });
      return;
    }

    case 'group.created': {
      const groupId = d.groupId as string;
      const memberIds = d.memberIds as string[];
      await insertPerson(db, orgId, groupPersonDocument(positionKey(seq), { groupId, name: d.name as string, roleId: d.roleId as string }));
      await groupMembers(db)
        .updateOne({ _id: groupId }, { $setOnInsert: { organizationId: orgId, memberIds } }, { upsert: true })
        .catch(ignoreDuplicate);
      await orgMeta(db).updateOne(
        { _id: orgId },
        { $set: { [`groups.${groupId}`]: { name: d.name as string, description: d.description as string, roleId: d.roleId as string, seq } } },
      );
      for (const userId of memberIds) await updatePerson(db, orgId, userId, { $addToSet: { groupIds: groupId } }, true);
      return;
    }

    case 'group.details-changed': {
      const groupId = d.groupId as string;
      await orgMeta(db).updateOne(
        { _id: orgId, [`groups.${groupId}`]: { $exists: true } },
        { $set: { [`groups.${groupId}.name`]: d.name as string, [`groups.${groupId}.description`]: d.description as string } },
      );
      await renamePerson(db, orgId, groupId, { name: d.name as string, search: searchTerms({ name: d.name as string }) });
      return;
    }

    case 'group.member-added':
      await groupMembers(db).updateOne({ _id: d.groupId as string }, { $addToSet: { memberIds: d.userId as string } });
      await updatePerson(db, orgId, d.userId as string, { $addToSet: { groupIds: d.groupId as string } }, true);
      return;

    case 'group.member-removed':
      await groupMembers(db).updateOne({ _id: d.groupId as string }, { $pull: { memberIds: d.userId as string } });
      await updatePerson(db, orgId, d.userId as string, { $pull: { groupIds: d.groupId as string } }, true);
      return;

    case 'group.deleted': {
      const groupId = d.groupId as string;
      const members = await groupMembers(db).findOne({ _id: groupId });
      for (const userId of members?.memberIds ?? []) await updatePerson(db, orgId, userId, { $pull: { groupIds: groupId } }, true);
      await removePerson(db, orgId, groupId);
      await orgMeta(db).updateOne({ _id: orgId }, { $unset: { [`groups.${groupId}`]: '' } });
      await groupMembers(db).deleteOne({ _id: groupId });
      return;
    }

    case 'project.created':
      await orgMeta(db).updateOne(
        { _id: orgId },
        { $set: { [`projects.${d.projectId as string}`]: { name: d.name as string, ownerId: d.ownerId as string, seq } } },
      );
      return;
    case 'project.owner-changed':
      await orgMeta(db).updateOne(
        { _id: orgId, [`projects.${d.projectId as string}`]: { $exists: true } },
        { $set: { [`projects.${d.projectId as string}.ownerId`]: d.ownerId as string } },
      );
      return;
    case 'project.deleted':
      await orgMeta(db).updateOne({ _id: orgId }, { $unset: { [`projects.${d.projectId as string}`]: '' } });
      return;

    // identity: profiles
    case 'user.created':
      await refreshProfile(db, d.userId as string, { username: d.username as string, name: d.name as string, email: d.email as string });
      return;
    case 'user.username-changed':
      await refreshProfile(db, d.userId as string, { username: d.username as string });
      return;
    case 'user.screen-name-changed':
      await refreshProfile(db, d.userId as string, { name: d.name as string });
      return;
    case 'user.email-changed':
      await refreshProfile(db, d.userId as string, { email: d.email as string });
      return;

    // role names (authorization) and direct organization roles (membership's bindings; authorization's legacy ones)
    case 'role.created':
    case 'role.changed':
      await roleNames(db).updateOne({ _id: d.roleId as string }, { $set: { organizationId: orgId, name: d.name as string } }, { upsert: true });
      return;
    case 'role.deleted':
      await roleNames(db).deleteOne({ _id: d.roleId as string });
      return;
    case 'role.assigned':
      if (d.projectId === null || d.projectId === undefined)
        await setOrganizationRole(db, orgId, d.subjectType as string, d.subjectId as string, d.roleId as string);
      return;
    case 'organization.bindings-imported':
      for (const b of d.subjects as Array<{ subjectType: string; subjectId: string; roleId: string | null }>)
        if (b.roleId !== null) await setOrganizationRole(db, orgId, b.subjectType, b.subjectId, b.roleId);
      return;
    default:
      return;
  }
}

/**
 * Consumes every event of the JetStream stream (not only the ones it uses, so that its checkpoint reaches
 * the stream's last sequence and a query can wait for exactly that: read-your-writes).
 */
export async function startPeopleProjection(infra: Infrastructure): Promise<RunningProjection> {
  const running = await runProjection({
    name: PEOPLE_PROJECTION,
    db: infra.db,
    js: infra.js,
    jsm: infra.jsm,
    filterSubjects: [allEventsSubject()],
    logger: infra.logger,
    onDeadLetter: () => infra.deadLetters.inc({ projection: PEOPLE_PROJECTION }),
    metrics: infra.consumerMetrics,
    apply: (event, ctx) => applyPeopleEvent(infra.db, event, ctx.sequence),
  });
  infra.onClose.push(async () => void (await running.stop()));
  return running;
}
