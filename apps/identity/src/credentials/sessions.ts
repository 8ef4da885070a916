import type { Db } from 'mongodb';
import type { ServiceConfig } from '@app/platform';
import type { SessionReply } from '@app/contracts';
import { generateSessionToken, hashToken } from './api-token';
import { sessions } from './credentials.repository';

export interface SessionDeps {
  db: Db;
  config: Pick<ServiceConfig<'identity'>, 'SESSION_TTL_HOURS'>;
}

/** Opens a login session bound to the user's current session epoch; the token is returned once. */
export async function openSession(deps: SessionDeps, userId: string, epoch: number): Promise<SessionReply> {
  const hours = deps.config.SESSION_TTL_HOURS ?? 12;
  const token = generateSessionToken();
  const createdAt = new Date();
  const expiresAt = new Date(createdAt.getTime() + hours * 3_600_000);
  await sessions(deps.db).insertOne({ _id: hashToken(token), userId, epoch, createdAt, expiresAt });
  return { token, expiresAt: expiresAt.toISOString() };
}
