import { serviceEventsSubject } from '@app/contracts';
import { runProjection } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { projectUserEvents } from './users.projection';

/**
 * Commands update the users read model right after their append (read-your-writes). This projection of
 * identity's own events heals the read model when a process died between the append and that update: for
 * every user event it re-applies the user's stream, which is a no-op when the model is current.
 */
export async function startUsersCatchUp(infra: Infrastructure) {
  const running = await runProjection({
    name: 'identity-users',
    db: infra.db,
    js: infra.js,
    jsm: infra.jsm,
    filterSubjects: [serviceEventsSubject('identity')],
    logger: infra.logger,
    onDeadLetter: () => infra.deadLetters.inc({ projection: 'identity-users' }),
    apply: async (event) => {
      if (!event.streamId.startsWith('user-')) return;
      await projectUserEvents(infra.db, await infra.store.readStream(event.streamId));
    },
  });
  infra.onClose.push(() => running.stop());
  return running;
}

