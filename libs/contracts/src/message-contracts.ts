import type { TSchema } from '@sinclair/typebox';
import { AuditLogRequests, AuditLogSubjects } from './audit-log/messages';
import { AccessRequests, AccessSubjects, AuthorizationRequests, AuthorizationSubjects } from './authorization/messages';
import { IdentityRequests, IdentitySubjects } from './identity/messages';
import { MembershipRequests, MembershipSubjects } from './membership/messages';

/**
 * Every subject table with the schemas of its bodies, key by key (the `satisfies` next to each table makes a
 * subject without a schema a compile error; `message-contracts.spec.ts` checks this list holds every table).
 */
export const MESSAGE_CONTRACTS: ReadonlyArray<{ subjects: Record<string, () => string>; requests: Record<string, TSchema> }> = [
  { subjects: IdentitySubjects, requests: IdentityRequests },
  { subjects: MembershipSubjects, requests: MembershipRequests },
  { subjects: AuthorizationSubjects, requests: AuthorizationRequests },
  { subjects: AccessSubjects, requests: AccessRequests },
  { subjects: AuditLogSubjects, requests: AuditLogRequests },
];

let bySubject: Map<string, TSchema> | undefined;

/** The schema of the body of a message on `subject` (as the code names it, without the installation's prefix); undefined: no such message. */
export function messageSchemaOf(subject: string): TSchema | undefined {
  if (!bySubject) {
    bySubject = new Map<string, TSchema>();
    for (const { subjects, requests } of MESSAGE_CONTRACTS) for (const [key, subjectOf] of Object.entries(subjects)) bySubject.set(subjectOf(), requests[key]);
  }
  return bySubject.get(subject);
}
