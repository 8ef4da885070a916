import { DomainError, ErrorCode, parseConsistencyToken, type CommandMeta } from '@app/contracts';
import type { Progress } from '@app/event-store';
import type { Infrastructure } from '@app/platform';
import { waitForReadModel } from '../people/people.queries';

export const PEOPLE_PROJECTION_HANDLE = Symbol('PEOPLE_PROJECTION_HANDLE');
/** filled in at start-up, once the projection runs */
export interface ProjectionHandle {
  running?: Progress;
}

/**
 * The caller's own writes that may not be in JetStream yet (consistency tokens, `meta.after`: the gateway names
 * them for a while after each write): until the relay has published the organization streams up to those
 * positions (this process's round, or another replica's stored position), bounded; late: SERVICE_UNAVAILABLE.
 * Before that, whatever this process appended is published (its relay's rounds in flight), so with one
 * replica every write that answered is in the stream, token or not. A read that must show the caller's
 * writes calls this before taking the stream's last sequence (`caughtUp` does).
 */
export async function writesPublished(infra: Pick<Infrastructure, 'relay'>, meta: Pick<CommandMeta, 'after'> | undefined, timeoutMs = 5000): Promise<void> {
  await infra.relay.settled();
  const positions = (meta?.after ?? []).flatMap((t) => parseConsistencyToken(t) ?? []).filter((p) => p.streamId.startsWith('organization-'));
  const published = await Promise.all(positions.map((p) => infra.relay.waitPublished(p.streamId, p.version, timeoutMs)));
  if (published.includes(false)) throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'your last change is not readable yet; try again');
}

/** Queries read the people read model after it caught up with the events stream (and with the caller's writes, `meta`). */
export async function caughtUp(infra: Infrastructure, projection: ProjectionHandle, meta?: Pick<CommandMeta, 'after'>) {
  await writesPublished(infra, meta);
  return waitForReadModel({ db: infra.db, jsm: infra.jsm, projection: projection.running });
}
