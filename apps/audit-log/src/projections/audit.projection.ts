import type { Collection, Db, IndexDescription } from 'mongodb';
import { Counter, type Registry } from 'prom-client';
import { ensureIndexes } from '@app/event-store';
import type { StoredEntry } from '../entries/audit-entry.mapper';
import type { DirectoryRecord } from '../entries/directory';

export type AuditEntryDocument = Omit<StoredEntry, 'id'> & { _id: string };

export const ENTRIES = 'audit_entries';
export const DIRECTORY = 'audit_directory';
export const AUDIT_PROJECTION = 'audit-log';

export const entriesCollection = (db: Db): Collection<AuditEntryDocument> => db.collection<AuditEntryDocument>(ENTRIES);
export const directoryCollection = (db: Db): Collection<DirectoryRecord> => db.collection<DirectoryRecord>(DIRECTORY);

/**
 * One index per filter of the query, each ending with the keyset (`sortKey`), so a page is an index range
 * scan of `limit` entries whatever the size of the log; `sortKey` alone serves retention.
 */
export const ENTRY_INDEXES: IndexDescription[] = [
  { key: { organizationId: 1, sortKey: -1 }, name: 'org_time' },
  { key: { organizationId: 1, actorId: 1, sortKey: -1 }, name: 'org_actor_time' },
  { key: { organizationId: 1, resource: 1, sortKey: -1 }, name: 'org_resource_time' },
  { key: { organizationId: 1, operation: 1, sortKey: -1 }, name: 'org_operation_time' },
  { key: { sortKey: 1 }, name: 'time' },
];

export async function ensureAuditIndexes(db: Db): Promise<void> {
  await ensureIndexes(entriesCollection(db), ENTRY_INDEXES);
}

export const toDocument = ({ id, ...rest }: StoredEntry): AuditEntryDocument => ({ _id: id, ...rest });

function onlyDuplicateKeys(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code: number } | Array<{ code: number }> };
  if (e?.writeErrors) {
    const list = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
    return list.length > 0 && list.every((w) => w.code === 11000);
  }
  return e?.code === 11000;
}

/** Unordered bulk insert; entries that exist already (same deterministic id) are left as they are. Returns how many were new. */
export async function insertEntries(db: Db, entries: StoredEntry[]): Promise<number> {
  if (!entries.length) return 0;
  try {
    return (await entriesCollection(db).insertMany(entries.map(toDocument), { ordered: false })).insertedCount;
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
    const e = err as { insertedCount?: number; result?: { insertedCount?: number } };
    return e.insertedCount ?? e.result?.insertedCount ?? 0;
  }
}

export interface AuditMetrics {
  entriesWritten: Counter;
}

export function auditMetrics(registry: Registry): AuditMetrics {
  const existing = registry.getSingleMetric('audit_entries_written_total') as Counter | undefined;
  return {
    entriesWritten: existing ?? new Counter({ name: 'audit_entries_written_total', help: 'audit entries written by the projection', registers: [registry] }),
  };
}
