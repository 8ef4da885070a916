import type { Collection, Db } from 'mongodb';
import type { CatalogueEvent, ServiceAccountDetail, ServiceAccountView } from '@app/contracts';
import { ensureIndexes } from '@app/event-store';
import { evolveServiceAccount, initialServiceAccountState, type ServiceAccountState } from './service-account.state';

/** Identity's read model of service accounts (lists, look-ups, token verification). */
export interface ServiceAccountDocument extends ServiceAccountState {
  _id: string;
  version: number;
}

export const serviceAccountsCollection = (db: Db): Collection<ServiceAccountDocument> => db.collection<ServiceAccountDocument>('service_accounts');

export async function ensureServiceAccountIndexes(db: Db): Promise<void> {
  await ensureIndexes(serviceAccountsCollection(db), [{ key: { organizationId: 1, _id: 1 }, name: 'organization' }]);
}

/** Applies events of one service account's stream; an event at or below the stored version is ignored (users.projection.ts). */
export async function projectServiceAccountEvents(db: Db, events: CatalogueEvent[]): Promise<void> {
  if (!events.length) return;
  const col = serviceAccountsCollection(db);
  const id = events[0].streamId.slice('service-account-'.length);
  const current = await col.findOne({ _id: id });
  const from = current?.version ?? 0;
  const fresh = events.filter((e) => e.streamVersion > from);
  if (!fresh.length) return;
  const { _id: _ignored, version: _v, ...state } = current ?? ({} as ServiceAccountDocument);
  const next = fresh.reduce(evolveServiceAccount, current ? (state as ServiceAccountState) : initialServiceAccountState);
  const doc: ServiceAccountDocument = { ...next, _id: id, version: fresh[fresh.length - 1].streamVersion };
  if (current) await col.replaceOne({ _id: id, version: from }, doc);
  else
    await col.insertOne(doc).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    });
}

export const isLive = (doc: ServiceAccountState | null, organizationId: string): doc is ServiceAccountState =>
  !!doc && doc.exists && !doc.deleted && doc.organizationId === organizationId;

export function viewOf(doc: ServiceAccountDocument): ServiceAccountView {
  return {
    id: doc._id,
    organizationId: doc.organizationId!,
    name: doc.name!,
    description: doc.description ?? '',
    active: !!doc.active,
    createdBy: doc.createdBy!,
    createdAt: doc.createdAt!,
  };
}

export function detailOf(doc: ServiceAccountDocument, lastUsed: Map<string, Date | null>): ServiceAccountDetail {
  const tokens = Object.entries(doc.tokens ?? {}).map(([id, t]) => ({
    id,
    name: t.name,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: lastUsed.get(id)?.toISOString() ?? null,
  }));
  return { ...viewOf(doc), tokens: tokens.sort((a, b) => a.createdAt.localeCompare(b.createdAt)) };
}
