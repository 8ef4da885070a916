import { serviceEventsSubject } from '@app/contracts';
import type { Db } from 'mongodb';
import { runProjection, type EventStore } from '@app/event-store';
import type { StreamConsumerDeps } from '@app/platform';
import { projectUserEvents, usersCollection } from './users.projection';
import { projectServiceAccountEvents, serviceAccountsCollection } from '../service-account/service-accounts.projection';

/** The same for a service account's stream (service-accounts.projection.ts). */
async function catchUpServiceAccount(deps: { db: Db; store: EventStore }, streamId: string, version: number): Promise<void> {
  const current = await serviceAccountsCollection(deps.db).findOne({ _id: streamId.slice('service-account-'.length) }, { projection: { version: 1 } });
  if ((current?.version ?? 0) >= version) return;
  await projectServiceAccountEvents(deps.db, await deps.store.readStream(streamId));
}

/**
 * Commands update the users read model right after their append (read-your-writes). This projection of
 * identity's own events heals the read model (and the service accounts' one) when a process died between the append and that update: for
 * every user event it re-applies the user's stream, which is a no-op when the model is current.
 */
export async function startUsersCatchUp(deps: StreamConsumerDeps & { db: Db; store: EventStore }) {
  const running = await runProjection({
    name: 'identity-users',
    db: deps.db,
    js: deps.js,
    jsm: deps.jsm,
    naming: deps.naming,
    filterSubjects: [serviceEventsSubject('identity')],
    logger: deps.logger,
    onDeadLetter: () => deps.deadLetters.inc({ projection: 'identity-users' }),
    metrics: deps.consumerMetrics,
    apply: async (event) => {
      if (event.streamId.startsWith('service-account-')) return catchUpServiceAccount(deps, event.streamId, event.streamVersion);
      if (!event.streamId.startsWith('user-')) return;
      // the usual case: the command already did it (reading the stream costs a scan of every commit on FerretDB)
      const current = await usersCollection(deps.db).findOne({ _id: event.streamId.slice('user-'.length) }, { projection: { version: 1 } });
      if ((current?.version ?? 0) >= event.streamVersion) return;
      await projectUserEvents(deps.db, await deps.store.readStream(event.streamId));
    },
  });
  return running;
}
