import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection } from 'nats';
import {
  AccessSubjects,
  AuditLogSubjects,
  AuthorizationSubjects,
  MembershipSubjects,
  PERMISSIONS,
  systemMeta,
  type AuditEntry,
  type CheckPermissionsReply,
  type PersonView,
  type RoleView,
} from '@app/contracts';
import { testNaming } from '@app/testing';

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

export async function ask<T>(nc: NatsConnection, subject: string, body: unknown, timeoutMs = 20_000): Promise<T> {
  const data = { meta: systemMeta(randomUUID()), body };
  const wire = testNaming().subject(subject); // this file's namespace, as the services have it from their configs
  const reply = await nc.request(wire, JSONCodec().encode({ pattern: wire, id: randomUUID(), data }), { timeout: timeoutMs });
  const decoded = JSONCodec<{ response?: T; err?: { code: string; message: string } }>().decode(reply.data);
  if (decoded.err) throw Object.assign(new Error(`${subject}: ${decoded.err.code} ${decoded.err.message}`), { code: decoded.err.code });
  return decoded.response as T;
}

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
  const people = await all<PersonView>((cursor) => ask(nc, MembershipSubjects.listPeople(), { organizationId, limit: 200, cursor }));
  const roles = await all<RoleView>((cursor) => ask(nc, AccessSubjects.listRoles(), { organizationId, limit: 200, cursor }));
  const permissions = PERMISSIONS.map((p) => p.name);
  const checks: Record<string, CheckPermissionsReply> = {};
  for (const userId of userIds)
    for (const projectId of [null, ...projectIds])
      checks[`${userId}|${projectId ?? '-'}`] = await ask<CheckPermissionsReply>(nc, AuthorizationSubjects.check(), {
        organizationId,
        userId,
        projectId,
        permissions,
      });
  const audit = await all<AuditEntry>((cursor) => ask(nc, AuditLogSubjects.listEntries(), { organizationId, limit: 500, cursor }));
  return { organizationId, people, roles, checks, audit };
}
