import { DomainError, ErrorCode, type RoleView } from '@app/contracts';
import type { AccessView } from '../view/access-view';
import type { OrgAccess, RoleEntry } from '@app/access-model';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sorts by name (roles, project members). */
export const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

export function toRoleView(role: RoleEntry): RoleView {
  return { id: role.id, name: role.name, description: role.description, scope: role.scope, permissions: [...role.permissions], builtIn: role.builtIn };
}

/** The organization's index after the view caught up; NOT_FOUND when no such organization exists. */
export async function caughtUpOrg(view: AccessView, organizationId: string): Promise<OrgAccess> {
  await view.catchUp();
  const org = view.find(organizationId);
  if (!org) throw new DomainError(ErrorCode.NOT_FOUND, 'organization not found');
  return org;
}

/** Offset pagination with an opaque cursor; `limit` (1..500, the message contract's) default 50. */
export function paginate<T>(items: T[], limit: number | undefined, cursor: string | undefined): { items: T[]; nextCursor: string | null } {
  const size = limit ?? 50;
  let offset = 0;
  if (cursor !== undefined && cursor !== '') {
    offset = Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^o:/, ''));
    if (!Number.isInteger(offset) || offset < 0) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'cursor is not valid');
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`o:${offset + size}`, 'utf8').toString('base64url') : null;
  return { items: page, nextCursor: next };
}
