import type { Db, Filter } from 'mongodb';
import { AUDIT_PAGE_DEFAULT, DomainError, ErrorCode, type AuditEntry, type ListEntriesReply, type ListEntriesRequest } from '@app/contracts';
import { entriesCollection, type AuditEntryDocument } from '../../projections/audit.projection';

const SORT_KEY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d{12}\|\d{1,6}$/;

/** The cursor is the sort key of the last entry of the page, base64url: opaque to clients, checked on the way in. */
export const encodeCursor = (sortKey: string): string => Buffer.from(sortKey, 'utf8').toString('base64url');
export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (cursor.length > 200 || !SORT_KEY.test(key)) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'cursor is not one this API returned');
  return key;
}

function isoOf(value: string, field: string): string {
  const d = new Date(value);
  if (typeof value !== 'string' || Number.isNaN(d.getTime())) throw new DomainError(ErrorCode.VALIDATION_FAILED, `${field} must be an ISO date-time`);
  return d.toISOString();
}

/**
 * The MongoDB filter of a page: organization, optional equality filters, and a range on `sortKey` holding
 * from/to and the cursor (keyset: strictly older than the last entry of the previous page).
 */
export function pageFilter(req: ListEntriesRequest): Filter<AuditEntryDocument> {
  const filter: Filter<AuditEntryDocument> = { organizationId: req.organizationId ?? null };
  if (req.actorId !== undefined) filter.actorId = req.actorId;
  if (req.resource !== undefined) filter.resource = req.resource;
  if (req.operation !== undefined) filter.operation = req.operation;
  const range: { $gte?: string; $lt?: string } = {};
  if (req.from !== undefined) range.$gte = isoOf(req.from, 'from');
  // `to` is inclusive: every key of that millisecond sorts below `<to>|~`
  const upper = [req.to !== undefined ? `${isoOf(req.to, 'to')}|~` : undefined, req.cursor !== undefined ? decodeCursor(req.cursor) : undefined].filter(
    (v): v is string => v !== undefined,
  );
  if (upper.length) range.$lt = upper.sort()[0];
  if (range.$gte !== undefined || range.$lt !== undefined) filter.sortKey = range;
  return filter;
}

/** The page size (the message contract keeps it within 1..AUDIT_PAGE_MAX). */
export const pageLimit = (limit: number | undefined): number => limit ?? AUDIT_PAGE_DEFAULT;

export function toEntry({ _id, sortKey: _s, sequence: _q, actorId: _a, ...rest }: AuditEntryDocument): AuditEntry {
  return { id: _id, ...rest };
}

/** Newest first, `limit` entries, and the cursor of the next page (null when there is none). */
export async function listEntries(db: Db, req: ListEntriesRequest): Promise<ListEntriesReply> {
  const limit = pageLimit(req.limit);
  const docs = await entriesCollection(db)
    .find(pageFilter(req))
    .sort({ sortKey: -1 })
    .limit(limit + 1)
    .toArray();
  const page = docs.slice(0, limit);
  return { items: page.map(toEntry), nextCursor: docs.length > limit ? encodeCursor(page[page.length - 1].sortKey) : null };
}
