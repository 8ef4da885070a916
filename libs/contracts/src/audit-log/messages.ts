import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { M } from '../message-schema';
import { cmdSubject, qrySubject } from '../subjects';

export const AuditLogSubjects = {
  health: () => qrySubject('audit-log', 'health'),
  listEntries: () => qrySubject('audit-log', 'list-entries'),
  /** drops the projection and rebuilds it from the events stream (from sequence 1) */
  rebuild: () => cmdSubject('audit-log', 'projection', 'rebuild'),
  /** deletes entries older than AUDIT_RETENTION_DAYS now (the scheduled job does the same) */
  applyRetention: () => cmdSubject('audit-log', 'projection', 'apply-retention'),
  /** re-feeds the projection's dead letters (`dlq.audit-log`) through it after a fix (`npm run dlq:replay -- audit-log`) */
  replayDeadLetters: () => cmdSubject('audit-log', 'projection', 'replay-dead-letters'),
};

export const AUDIT_RESOURCES = ['User', 'Organization', 'Group', 'Role', 'Project', 'Member', 'ServiceAccount'] as const;
export const AUDIT_OPERATIONS = ['Added', 'Removed', 'Modified'] as const;
export type AuditResource = (typeof AUDIT_RESOURCES)[number];
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 500;

export const ListEntriesRequest = M.obj(
  {
    /** the organization whose log is read; `null` lists entries that belong to no organization */
    organizationId: Type.Union([M.str('organizationId must be a string'), Type.Null()]),
    /** ISO date-times, both inclusive (parsed by the query, which names the one it cannot read) */
    from: M.str('from must be an ISO date-time', { maxLength: 100 }),
    to: M.str('to must be an ISO date-time', { maxLength: 100 }),
    actorId: M.str('actorId must be a string', { maxLength: 200 }),
    resource: M.oneOf('unknown resource', ...AUDIT_RESOURCES),
    operation: M.oneOf('unknown operation', ...AUDIT_OPERATIONS),
    /** opaque, from the previous page's `nextCursor` */
    cursor: M.str('cursor is not one this API returned'),
    /** default 50, at most 500 */
    limit: M.int(`limit must be 1 to ${AUDIT_PAGE_MAX}`, { minimum: 1, maximum: AUDIT_PAGE_MAX }),
    /**
     * default true: before answering, wait (a few seconds at most) until the projection has handled every
     * event in the stream as of the request. Pages after the first of an export pass false.
     */
    consistent: M.bool('consistent must be true or false'),
  },
  [],
);
export type ListEntriesRequest = Static<typeof ListEntriesRequest>;

export interface ListEntriesReply {
  items: AuditEntry[];
  /** null on the last page */
  nextCursor: string | null;
}

export interface ReplayDeadLettersReply {
  projection: string;
  /** applied and removed from the dead-letter stream */
  replayed: number;
  /** failed again: still in the dead-letter stream */
  failed: number;
}

export interface RebuildReply {
  /** events read from the stream */
  events: number;
  /** entries in the rebuilt log */
  entries: number;
  deadLettered: number;
  /** last stream sequence included */
  lastSequence: number;
  ms: number;
  eventsPerSecond: number;
  /** where the time went: reading and inserting entries, writing the directory, building the indexes */
  phasesMs?: { replay: number; directory: number; indexes: number };
}

export interface ApplyRetentionReply {
  retentionDays: number;
  deleted: number;
}

export interface AuditEntry {
  id: string;
  /** the domain event the entry was written from */
  eventId: string;
  timestamp: string;
  organizationId: string | null;
  actor: { id: string; username: string | null };
  resource: AuditResource;
  resourceId: string;
  resourceName: string | null;
  operation: AuditOperation;
  description: string;
  medium: string;
  ip: string | null;
  requestId: string | null;
  metadata: Record<string, unknown>;
}

/** The body of every message the audit log takes, by the key of its subject (checked at the edge, libs/messaging). */
export const AuditLogRequests = {
  health: M.none(),
  listEntries: ListEntriesRequest,
  rebuild: M.none(),
  applyRetention: M.none(),
  replayDeadLetters: M.none(),
} satisfies Record<keyof typeof AuditLogSubjects, TSchema>;
