import { DomainError, ErrorCode } from '@app/contracts';
import type { RunningPeopleView } from '../people/people.consumer';
import type { PeopleModel } from '../people/people.view';

export const PEOPLE_VIEW_HANDLE = Symbol('PEOPLE_VIEW_HANDLE');
/** filled in at start-up, when the people view starts */
export interface PeopleViewHandle {
  running?: Promise<RunningPeopleView>;
}

/**
 * Queries read the in-memory people model once it has applied the events stream up to where it was when the
 * query began (read-your-writes); 503 SERVICE_UNAVAILABLE when it does not get there within 10 s.
 */
export async function caughtUp(handle: PeopleViewHandle, timeoutMs = 10_000): Promise<PeopleModel> {
  const started = Date.now();
  const unavailable = () => new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the people list is starting; try again');
  if (!handle.running) throw unavailable();
  let timer: NodeJS.Timeout | undefined;
  const view = await Promise.race([
    handle.running,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(unavailable()), timeoutMs))), // restoring a snapshot
  ]).finally(() => clearTimeout(timer));
  return view.current(Math.max(0, timeoutMs - (Date.now() - started)));
}
