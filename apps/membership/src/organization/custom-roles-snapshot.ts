import type { Db } from 'mongodb';
import type { RoleDefinition } from '@app/access-model';
import { chunkedSnapshotStore, type SnapshotCodec, type StreamIdentity } from '@app/event-store';

export type { StreamIdentity };

/**
 * Snapshots of membership's custom-roles view (docs/membership.md "Custom roles view: snapshots"): the map at
 * one events-stream sequence, in membership's database, so that a replica starts from the newest one and reads
 * only the stream after it, in the shared chunked store (`chunkedSnapshotStore`, libs/event-store).
 * Organizations are stored as documents in chunks of `chunkOrgs` (a document is limited to 16 MB), then a head
 * with the sequence, the stream it belongs to, the chunk and organization counts.
 */
export const CUSTOM_ROLES_SNAPSHOT_FORMAT = 1;

/** Per organization, its custom roles by id, as authorization's role events define them. */
export type CustomRoleMap = Map<string, Map<string, RoleDefinition>>;

/** one organization's custom roles (an object, not a pair: FerretDB 1.x stores no nested arrays) */
export interface OrgRoles {
  organizationId: string;
  roles: RoleDefinition[];
}

export interface CustomRolesSnapshot {
  sequence: number;
  orgs: OrgRoles[];
}

/** The map as plain data (a deep copy: the view goes on changing). */
export function snapshotOf(roles: CustomRoleMap, sequence: number): CustomRolesSnapshot {
  return {
    sequence,
    orgs: [...roles]
      .filter(([, m]) => m.size > 0)
      .map(([organizationId, m]) => ({ organizationId, roles: [...m.values()].map((r) => ({ ...r, permissions: [...r.permissions] })) })),
  };
}

/** The map a snapshot describes. */
export function restoreSnapshot(s: CustomRolesSnapshot): CustomRoleMap {
  return new Map(s.orgs.map((o) => [o.organizationId, new Map(o.roles.map((r) => [r.id, { ...r, permissions: [...r.permissions] }]))]));
}

/** Chunks of `chunkOrgs` organizations (no gzip: plain documents); the head counts the organizations. */
export function customRolesCodec(chunkOrgs = 2000): SnapshotCodec<CustomRolesSnapshot, { orgs: OrgRoles[] }, { orgs: number }> {
  return {
    format: CUSTOM_ROLES_SNAPSHOT_FORMAT,
    sequence: (s) => s.sequence,
    async encode(s) {
      const chunks = Array.from({ length: Math.max(1, Math.ceil(s.orgs.length / chunkOrgs)) }, (_, i) => ({
        orgs: s.orgs.slice(i * chunkOrgs, (i + 1) * chunkOrgs),
      }));
      return { chunks, head: { orgs: s.orgs.length } };
    },
    async decode(chunks, head) {
      const orgs = chunks.flatMap((c) => c.orgs);
      if (orgs.length !== head.orgs) throw new Error(`${orgs.length} organizations, its head says ${head.orgs}`);
      return { sequence: head.sequence, orgs };
    },
  };
}

export type CustomRolesSnapshotStore = ReturnType<typeof customRolesSnapshotStore>;

export function customRolesSnapshotStore(db: Db, opts: { chunkOrgs?: number } = {}) {
  return chunkedSnapshotStore(db, {
    name: 'custom-roles view',
    heads: 'custom_roles_snapshots',
    chunks: 'custom_roles_snapshot_chunks',
    codec: customRolesCodec(opts.chunkOrgs),
  });
}
