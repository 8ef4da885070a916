import type { Infrastructure, ServiceConfig } from '@app/platform';
import type { SessionReply } from '@app/contracts';
import { generateSessionToken, hashToken } from './api-token';
import { sessions } from './credentials.repository';

/** Opens a login session bound to the user's current session epoch; the token is returned once. */
export async function openSession(infra: Infrastructure, userId: string, epoch: number): Promise<SessionReply> {
  const hours = (infra.config as ServiceConfig<'identity'>).SESSION_TTL_HOURS ?? 12;
  const token = generateSessionToken();
  const createdAt = new Date();
  const expiresAt = new Date(createdAt.getTime() + hours * 3_600_000);
  await sessions(infra.db).insertOne({ _id: hashToken(token), userId, epoch, createdAt, expiresAt });
  return { token, expiresAt: expiresAt.toISOString() };
}
