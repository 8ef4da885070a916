import { serviceEventsSubject } from '@app/contracts';
import { runProjection } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { projectUserEvents, usersCollection } from './users.projection';
import { projectServiceAccountEvents, serviceAccountsCollection } from '../service-account/service-accounts.projection';

/** The same for a service account's stream (service-accounts.projection.ts). */
async function catchUpServiceAccount(infra: Infrastructure, streamId: string, version: number): Promise<void> {
  const current = await serviceAccountsCollection(infra.db).findOne({ _id: streamId.slice('service-account-'.length) }, { projection: { version: 1 } });
  if ((current?.version ?? 0) >= version) return;
  await projectServiceAccountEvents(infra.db, await infra.store.readStream(streamId));
}

/**
 * Commands update the users read model right after their append (read-your-writes). This projection of
 * identity's own events heals the read model (and the service accounts' one) when a process died between the append and that update: for
 * every user event it re-applies the user's stream, which is a no-op when the model is current.
 */
export async function startUsersCatchUp(infra: Infrastructure) {
  const running = await runProjection({
    name: 'identity-users',
    db: infra.db,
    js: infra.js,
    jsm: infra.jsm,
    naming: infra.naming,
    filterSubjects: [serviceEventsSubject('identity')],
    logger: infra.logger,
    onDeadLetter: () => infra.deadLetters.inc({ projection: 'identity-users' }),
    metrics: infra.consumerMetrics,
    apply: async (event) => {
      if (event.streamId.startsWith('service-account-')) return catchUpServiceAccount(infra, event.streamId, event.streamVersion);
      if (!event.streamId.startsWith('user-')) return;
      // the usual case: the command already did it (reading the stream costs a scan of every commit on FerretDB)
      const current = await usersCollection(infra.db).findOne({ _id: event.streamId.slice('user-'.length) }, { projection: { version: 1 } });
      if ((current?.version ?? 0) >= event.streamVersion) return;
      await projectUserEvents(infra.db, await infra.store.readStream(event.streamId));
    },
  });
  infra.onClose.push(async () => void (await running.stop()));
  return running;
}
