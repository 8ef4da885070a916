import type { Db } from 'mongodb';
import { JSONCodec, type JetStreamClient, type JetStreamManager } from 'nats';
import { catalogueEvent, eventsStreamName, systemMeta, type DomainEvent, type Naming } from '@app/contracts';
import { ConcurrencyError, upsertAgainIfRaced, type EventStore, type OutboxRelay } from '@app/event-store';
import { organizationStreamId } from '../organization/organization.state';
import { importPlans, LegacyHistoryFold } from './bindings-import';

export interface MigrationReport {
  /** messages of the events stream read (sequences 1 to `lastSequence`) */
  events: number;
  lastSequence: number;
  /** organizations whose organization stream got `organization.bindings-imported` now */
  imported: string[];
  /** organizations a previous run imported whose events were not in the events stream yet when it was read */
  importedBefore: string[];
}

const codec = JSONCodec<DomainEvent>();

/** Every event of the events stream up to its last sequence now, in order, through `fold`. */
async function readHistory(
  js: JetStreamClient,
  jsm: JetStreamManager,
  naming: Naming,
  fold: LegacyHistoryFold,
): Promise<{ events: number; lastSequence: number }> {
  const stream = eventsStreamName(naming);
  const lastSequence = (await jsm.streams.info(stream)).state.last_seq;
  let events = 0;
  if (lastSequence === 0) return { events, lastSequence };
  const messages = await (await js.consumers.get(stream)).consume({ max_messages: 1000 });
  try {
    for await (const m of messages) {
      fold.apply(catalogueEvent(codec.decode(m.data))); // the stream's one contract check, as consumeEvents makes it
      events++;
      if (m.info.streamSequence >= lastSequence) break;
    }
  } finally {
    await messages.close();
  }
  return { events, lastSequence };
}

/**
 * `npm run migrate:bindings`: folds the whole events stream (JetStream order) with the shared fold and appends to
 * each organization stream that had legacy bindings one commit of `organization.bindings-imported` restating
 * every binding, after the very version the fold saw (so nothing of the organization happened in between), then
 * publishes it. Idempotent: an organization already imported is skipped; the command id
 * `migrate-bindings:<organizationId>` makes a second append of the same import impossible. An organization that
 * changed after the stream was read refuses the append (ConcurrencyError): run it again.
 */
export async function migrateBindings(deps: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  store: EventStore;
  relay: OutboxRelay;
}): Promise<MigrationReport> {
  const fold = new LegacyHistoryFold();
  const read = await readHistory(deps.js, deps.jsm, deps.naming, fold);
  const report: MigrationReport = { ...read, imported: [], importedBefore: [] };
  for (const plan of importPlans(fold)) {
    const streamId = organizationStreamId(plan.organizationId);
    const commandId = `migrate-bindings:${plan.organizationId}`;
    try {
      const result = await deps.store.append(streamId, plan.expectedVersion, plan.events, { commandId, meta: systemMeta(commandId) });
      (result.status === 'appended' ? report.imported : report.importedBefore).push(plan.organizationId);
    } catch (err) {
      if (err instanceof ConcurrencyError)
        throw new Error(
          `organization ${plan.organizationId} changed while the migration read the events stream (past version ${plan.expectedVersion}): run it again`,
        );
      throw err;
    }
    await deps.relay.flushStream(streamId);
  }
  return report;
}

/** Where membership remembers that the bindings import ran (one document per migration, in its database). */
const MIGRATIONS = 'migrations';
const BINDINGS_IMPORT = 'bindings-import';

/**
 * The import as membership's start-up runs it, before the service answers any command: skipped when it has
 * run before against this database, else `migrateBindings` (a fresh installation reads an empty or short
 * stream and imports nothing) and the marker is written. Replicas starting together may both run it: the
 * command ids make the second import append nothing. An installation upgraded with old services still
 * publishing their outbox should run `npm run migrate:bindings` by hand first (docs/operations.md).
 */
export async function migrateBindingsOnce(
  deps: Parameters<typeof migrateBindings>[0] & { db: Db },
  log: (report: MigrationReport) => void = () => undefined,
): Promise<MigrationReport | undefined> {
  const markers = deps.db.collection<{ _id: string; at: Date; lastSequence: number; imported: string[] }>(MIGRATIONS);
  if (await markers.findOne({ _id: BINDINGS_IMPORT })) return undefined;
  const report = await migrateBindings(deps);
  // replicas starting together both get here: the second upsert may race the first one's insert
  await upsertAgainIfRaced(() =>
    markers.updateOne(
      { _id: BINDINGS_IMPORT },
      { $setOnInsert: { at: new Date(), lastSequence: report.lastSequence, imported: report.imported } },
      { upsert: true },
    ),
  );
  log(report);
  return report;
}
