import type { Collection, Db } from 'mongodb';
import { allEventsSubject, type AuditEntry } from '@app/contracts';
import { ensureIndexes, runProjection } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { toAuditEntries } from '../entries/audit-entry.mapper';

export type AuditEntryDocument = Omit<AuditEntry, 'id'> & { _id: string; sequence: number };

export const entriesCollection = (db: Db): Collection<AuditEntryDocument> => db.collection<AuditEntryDocument>('audit_entries');

export async function ensureAuditIndexes(db: Db): Promise<void> {
  await ensureIndexes(entriesCollection(db), [{ key: { organizationId: 1, timestamp: -1, _id: -1 }, name: 'org_time' }]);
}

export const AUDIT_PROJECTION = 'audit-log';

/** Every domain event → append-only entries. Upserts by entry id, so a redelivered event adds nothing. */
export async function startAuditProjection(infra: Infrastructure) {
  const entries = entriesCollection(infra.db);
  const running = await runProjection({
    name: AUDIT_PROJECTION,
    db: infra.db,
    js: infra.js,
    jsm: infra.jsm,
    filterSubjects: [allEventsSubject()],
    logger: infra.logger,
    onDeadLetter: () => infra.deadLetters.inc({ projection: AUDIT_PROJECTION }),
    apply: async (event, ctx) => {
      for (const { id, ...entry } of toAuditEntries(event)) {
        await entries.updateOne({ _id: id }, { $setOnInsert: { ...entry, sequence: ctx.sequence } }, { upsert: true });
      }
    },
  });
  infra.onClose.push(() => running.stop());
  return running;
}
