import type { Progress } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { waitForReadModel } from '../people/people.queries';

export const PEOPLE_PROJECTION_HANDLE = Symbol('PEOPLE_PROJECTION_HANDLE');
/** filled in at start-up, once the projection runs */
export interface ProjectionHandle {
  running?: Progress;
}

/** Queries read the people read model after it caught up with the events stream. */
export function caughtUp(infra: Infrastructure, projection: ProjectionHandle) {
  return waitForReadModel({ db: infra.db, jsm: infra.jsm, naming: infra.naming, projection: projection.running });
}
