import type { OrgAccessSnapshot } from '@app/access-model';
import { AuthorizationSubjects, ErrorCode, parseConsistencyToken, type CheckPermissionsReply, type OrgAccessReply } from '@app/contracts';
import { UUID_PATTERN } from '../common/path-id.pipe';
import { ServiceError, serviceUnavailable } from '../common/service-error';
import type { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import type { VerifiedTokens } from './verified-tokens';

/** How long a check waits for the caller's writes (consistency tokens) to reach the index, as authorization's check did. */
const TOKEN_WAIT_MS = 3000;

/**
 * Whether `userId` is a member of the organization (and `projectId` in it) and holds each permission, decided by
 * the gateway's access index (access-index.ts) as authorization's check decides it, on the state as of the
 * request's read index and the caller's writes. Not a member, or ids that are not UUIDs: `member: false`. An
 * organization too large for the index (`AccessIndex.isRemote`) is checked by authorization (one hop), whose
 * answer is used again until an event of the organization (`AccessIndex.remoteAnswer`).
 */
export async function checkAccess(verified: VerifiedTokens, services: ServicesClient, req: GatewayRequest, q: AccessQuestion): Promise<CheckPermissionsReply> {
  const reply = await decide(verified, services, req, q);
  if (!req.ctx.leased || (reply.member && q.permissions.every((p) => reply.allowed[p]))) return reply;
  // a refusal under the read lease is not final: the lease's floor holds every write that takes access away, not
  // every grant answered before this request; so it is decided again as of the stream's end, looked up
  const index = await verified.readIndex().catch(() => {
    throw serviceUnavailable();
  });
  req.ctx.readIndex = index.sequence;
  req.ctx.leased = false;
  return decide(verified, services, req, q);
}

type AccessQuestion = { organizationId: string; userId: string; projectId: string | null; permissions: string[] };

async function decide(verified: VerifiedTokens, services: ServicesClient, req: GatewayRequest, q: AccessQuestion): Promise<CheckPermissionsReply> {
  const nobody = () => ({ member: false, allowed: Object.fromEntries(q.permissions.map((p) => [p, false])) });
  if (!UUID_PATTERN.test(q.organizationId)) return nobody();
  const load = (atLeast: number) =>
    services.call<OrgAccessReply<OrgAccessSnapshot>>(AuthorizationSubjects.orgAccess(), { organizationId: q.organizationId, atLeast }, req);
  await verified.access.load(q.organizationId, load, req.ctx.readIndex);
  // too large to keep here: authorization decides, as of the read index and the caller's writes (named in the meta);
  // its answer is used again while no event of the organization came after the read index it was asked at, except
  // for a caller with writes of its own (authorization waits for them)
  if (verified.access.isRemote(q.organizationId)) {
    const asked = services.afterOf(req) ? undefined : req.ctx.readIndex;
    const question = JSON.stringify([q.userId, q.projectId, q.permissions]);
    const kept = asked === undefined ? undefined : verified.access.remoteAnswer(q.organizationId, question);
    if (kept) return kept;
    const reply = await services.call<CheckPermissionsReply>(AuthorizationSubjects.check(), { ...q, atLeast: req.ctx.readIndex }, req);
    if (asked !== undefined) verified.access.keepRemoteAnswer(q.organizationId, question, reply, asked);
    return reply;
  }
  const positions = (services.afterOf(req) ?? []).flatMap((t) => parseConsistencyToken(t) ?? []);
  if (positions.length && !(await verified.access.reflects(q.organizationId, positions, TOKEN_WAIT_MS)))
    throw new ServiceError({ code: ErrorCode.SERVICE_UNAVAILABLE, message: 'the access index did not catch up in time' });
  const org = verified.access.find(q.organizationId);
  return org ? org.check(q.userId, q.projectId, q.permissions) : nobody();
}
