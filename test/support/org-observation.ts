import type { NatsConnection } from 'nats';
import {
  AccessSubjects,
  AuditLogSubjects,
  AuthorizationSubjects,
  MembershipSubjects,
  PERMISSIONS,
  type AuditEntry,
  type CheckPermissionsReply,
  type PersonView,
  type RoleView,
} from '@app/contracts';
import { natsRequest } from '@app/testing';

/**
 * What the services answer about one organization, read over NATS exactly as the gateway asks (no token
 * needed): the people list, the roles, a permission check of every user × every permission × (the
 * organization and each project), and the audit entries. Used to record a fixture's expectations
 * (test/fixtures/legacy-bindings) and to compare a migrated installation with them.
 */
export interface OrganizationObservation {
  organizationId: string;
  people: PersonView[];
  roles: RoleView[];
  /** `<userId>|<projectId or ->` → the check of every catalogue permission */
  checks: Record<string, CheckPermissionsReply>;
  audit: AuditEntry[];
}

/**
 * The people list as the fixture of test/fixtures/legacy-bindings recorded it: that history's expected answers
 * were written before a role held through groups named them (`roles[].groups`), so the field is left out.
 */
export const asRecordedBeforeRoleGroups = (people: PersonView[]): PersonView[] =>
  people.map((p) => ({ ...p, roles: p.roles.map(({ groups: _groups, ...r }) => r) }));

async function all<T>(page: (cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    items.push(...p.items);
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

/** `userIds` and `projectIds`: whom and where to check (include people who left and projects that are gone). */
export async function observeOrganization(
  nc: NatsConnection,
  organizationId: string,
  userIds: string[],
  projectIds: string[],
): Promise<OrganizationObservation> {
  const people = await all<PersonView>((cursor) => natsRequest(nc, MembershipSubjects.listPeople(), { organizationId, limit: 200, cursor }));
  const roles = await all<RoleView>((cursor) => natsRequest(nc, AccessSubjects.listRoles(), { organizationId, limit: 200, cursor }));
  const permissions = PERMISSIONS.map((p) => p.name);
  const checks: Record<string, CheckPermissionsReply> = {};
  for (const userId of userIds)
    for (const projectId of [null, ...projectIds])
      checks[`${userId}|${projectId ?? '-'}`] = await natsRequest<CheckPermissionsReply>(nc, AuthorizationSubjects.check(), {
        organizationId,
        userId,
        projectId,
        permissions,
      });
  const audit = await all<AuditEntry>((cursor) => natsRequest(nc, AuditLogSubjects.listEntries(), { organizationId, limit: 500, cursor }));
  return { organizationId, people, roles, checks, audit };
}
