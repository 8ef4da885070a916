import type { OrgAccess } from './org-access';

const ORGANIZATION_STREAM = /^(organization|access)-(.+)$/;

/**
 * The organization whose access state a stream feeds (a consistency token's stream): `organization-<id>`
 * (membership: people, groups, projects, bindings) or `access-<id>` (authorization: custom roles); undefined for
 * any other stream.
 */
export function organizationOfStream(streamId: string): string | undefined {
  return ORGANIZATION_STREAM.exec(streamId)?.[2];
}

/** The version of the organization's stream `streamId` that `org` has applied (0: none, or no state yet). */
export function appliedVersion(org: OrgAccess | undefined, streamId: string): number {
  return streamId.startsWith('access-') ? (org?.accessVersion ?? 0) : (org?.streamVersion ?? 0);
}
