import type { Collection, Db } from 'mongodb';
import { builtInRoleId, BUILT_IN_ROLE_KEYS, type BuiltInRoleKey } from '@app/contracts';

/**
 * Membership's read model for listing people, groups, projects and "my organizations". Every access is a
 * look-up by `_id` or a scan of one organization's own collection in `_id` order (see docs/membership.md:
 * FerretDB v1 pushes down nothing but `_id` equality, so this is what stays fast there and on MongoDB).
 */

/** One user or group of one organization, in that organization's collection `people_<organizationId>`. */
export interface PersonDocument {
  /** position key: the JetStream sequence of the event that added the subject, zero-padded, so `_id` order is insertion order */
  _id: string;
  type: 'user' | 'group';
  id: string;
  name: string;
  username?: string;
  email?: string;
  /** the role bound directly in the organization */
  roleId: string;
  /** groups a user is in (empty for groups) */
  groupIds: string[];
  /** lowercased username, name, words of the name and email: prefix search */
  search: string[];
}

/** `<organizationId>:<subjectId>` → the person document's `_id` */
export interface PersonKeyDocument {
  _id: string;
  key: string;
}

export interface OrganizationMetaDocument {
  _id: string;
  name: string;
  slug: string;
  createdAt: string;
  groups: Record<string, { name: string; description: string; roleId: string; seq: number }>;
  projects: Record<string, { name: string; ownerId: string; seq: number }>;
}

export interface GroupMembersDocument {
  _id: string;
  organizationId: string;
  memberIds: string[];
}

/** identity's profile of a user and the organizations they belong to */
export interface UserDocument {
  _id: string;
  username?: string;
  name?: string;
  email?: string;
  orgIds: string[];
}

export interface RoleNameDocument {
  _id: string;
  organizationId: string;
  name: string;
}

export const peopleOf = (db: Db, organizationId: string): Collection<PersonDocument> => db.collection<PersonDocument>(`people_${organizationId}`);
export const personKeys = (db: Db): Collection<PersonKeyDocument> => db.collection<PersonKeyDocument>('people_keys');
export const orgMeta = (db: Db): Collection<OrganizationMetaDocument> => db.collection<OrganizationMetaDocument>('organizations_view');
/**
 * Per organization: `v` is raised by every change of its `organizations_view` document; `n` counts its
 * people and groups (an estimate for choosing a query plan: a re-applied event may count twice).
 */
export const orgVersions = (db: Db): Collection<{ _id: string; v: number; n?: number }> =>
  db.collection<{ _id: string; v: number; n?: number }>('organization_versions_view');
export const groupMembers = (db: Db): Collection<GroupMembersDocument> => db.collection<GroupMembersDocument>('group_members_view');
export const usersView = (db: Db): Collection<UserDocument> => db.collection<UserDocument>('users_view');
export const roleNames = (db: Db): Collection<RoleNameDocument> => db.collection<RoleNameDocument>('role_names_view');

export const personKeyId = (organizationId: string, subjectId: string): string => `${organizationId}:${subjectId}`;
export const positionKey = (seq: number): string => String(seq).padStart(16, '0');

export function searchTerms(p: { username?: string; name?: string; email?: string }): string[] {
  const terms = [p.username, p.name, ...(p.name ?? '').split(/\s+/), p.email].filter((t): t is string => !!t).map((t) => t.toLowerCase().replace(/\s+/g, ' '));
  return [...new Set(terms)];
}

export function userPersonDocument(
  key: string,
  u: { userId: string; username: string; name?: string; email?: string; roleId: string; groupIds?: string[] },
): PersonDocument {
  const name = u.name ?? u.username;
  return {
    _id: key,
    type: 'user',
    id: u.userId,
    name,
    username: u.username,
    ...(u.email ? { email: u.email } : {}),
    roleId: u.roleId,
    groupIds: u.groupIds ?? [],
    search: searchTerms({ username: u.username, name, email: u.email }),
  };
}

export function groupPersonDocument(key: string, g: { groupId: string; name: string; roleId: string }): PersonDocument {
  return { _id: key, type: 'group', id: g.groupId, name: g.name, roleId: g.roleId, groupIds: [], search: searchTerms({ name: g.name }) };
}

const BUILT_IN_NAMES: Record<BuiltInRoleKey, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  'project-admin': 'Admin',
  'project-contributor': 'Contributor',
  'project-reader': 'Reader',
};

/** Name of a built-in role of the organization, or undefined for a custom role. */
export function builtInRoleName(organizationId: string, roleId: string): string | undefined {
  const key = BUILT_IN_ROLE_KEYS.find((k) => builtInRoleId(organizationId, k) === roleId);
  return key ? BUILT_IN_NAMES[key] : undefined;
}

/** Whether the database is MongoDB proper (it can sort by `_id` from its index) rather than FerretDB. */
const isMongo = new WeakMap<Db, Promise<boolean>>();
export function servedByMongo(db: Db): Promise<boolean> {
  let known = isMongo.get(db);
  if (!known) {
    known = db
      .command({ buildInfo: 1 })
      .then((info) => !('ferretdb' in info) && !('ferretdbVersion' in info))
      .catch(() => false);
    isMongo.set(db, known);
  }
  return known;
}
