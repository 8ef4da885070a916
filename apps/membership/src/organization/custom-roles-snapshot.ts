import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { RoleDefinition } from '@app/access-model';

/**
 * Snapshots of membership's custom-roles view (docs/membership.md "Custom roles view: snapshots"): the map at
 * one events-stream sequence, in membership's database, so that a replica starts from the newest one and reads
 * only the stream after it. Organizations are stored in chunks of `chunkOrgs` (a document is limited to 16 MB),
 * then a head with the sequence, the stream it belongs to and the chunk count; the head is written last, so a
 * snapshot without one is incomplete and never read.
 */
export const CUSTOM_ROLES_SNAPSHOT_FORMAT = 1;

/** Per organization, its custom roles by id, as authorization's role events define them. */
export type CustomRoleMap = Map<string, Map<string, RoleDefinition>>;

/** Which events stream the sequence refers to: a stream deleted and made again restarts at 1. */
export interface StreamIdentity {
  name: string;
  created: string;
}

/** one organization's custom roles (an object, not a pair: FerretDB 1.x stores no nested arrays) */
export interface OrgRoles {
  organizationId: string;
  roles: RoleDefinition[];
}

export interface CustomRolesSnapshot {
  sequence: number;
  orgs: OrgRoles[];
}

interface Head {
  _id: string;
  format: number;
  stream: string;
  streamCreated: string;
  sequence: number;
  chunks: number;
  orgs: number;
  createdAt: Date;
}
interface Chunk {
  _id: string;
  snapshot: string;
  i: number;
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

export type CustomRolesSnapshotStore = ReturnType<typeof customRolesSnapshotStore>;

export function customRolesSnapshotStore(db: Db, opts: { chunkOrgs?: number } = {}) {
  const heads = db.collection<Head>('custom_roles_snapshots');
  const chunks = db.collection<Chunk>('custom_roles_snapshot_chunks');
  const chunkOrgs = opts.chunkOrgs ?? 2000;
  return {
    /** The newest complete snapshot of this stream at or below `lastSequence` (undefined: none). */
    async newest(stream: StreamIdentity, lastSequence: number): Promise<(CustomRolesSnapshot & { createdAt: Date }) | undefined> {
      const candidates = await heads
        .find({ format: CUSTOM_ROLES_SNAPSHOT_FORMAT, stream: stream.name, streamCreated: stream.created, sequence: { $lte: lastSequence } })
        .sort({ sequence: -1 })
        .limit(3)
        .toArray();
      for (const head of candidates) {
        const parts = await chunks.find({ snapshot: head._id }).sort({ i: 1 }).toArray();
        if (parts.length !== head.chunks || parts.some((p, i) => p.i !== i)) continue; // damaged: the next one
        const orgs = parts.flatMap((p) => p.orgs);
        if (orgs.length === head.orgs) return { sequence: head.sequence, orgs, createdAt: head.createdAt };
      }
      return undefined;
    },
    /** Sequence and time of the newest head of this stream (another replica's too). */
    async newestHead(stream: StreamIdentity): Promise<{ sequence: number; at: number } | undefined> {
      const head = await heads.find({ stream: stream.name, streamCreated: stream.created }).sort({ sequence: -1 }).limit(1).next();
      return head ? { sequence: head.sequence, at: head.createdAt.getTime() } : undefined;
    },
    /** Writes the chunks, then the head; keeps the two newest heads of the stream and deletes the others. */
    async write(stream: StreamIdentity, s: CustomRolesSnapshot): Promise<void> {
      const id = randomUUID();
      const parts: Chunk[] = [];
      for (let i = 0; i * chunkOrgs < s.orgs.length || i === 0; i++)
        parts.push({ _id: `${id}:${i}`, snapshot: id, i, orgs: s.orgs.slice(i * chunkOrgs, (i + 1) * chunkOrgs) });
      for (const p of parts) await chunks.insertOne(p);
      await heads.insertOne({
        _id: id,
        format: CUSTOM_ROLES_SNAPSHOT_FORMAT,
        stream: stream.name,
        streamCreated: stream.created,
        sequence: s.sequence,
        chunks: parts.length,
        orgs: s.orgs.length,
        createdAt: new Date(),
      });
      const kept = await heads.find({ stream: stream.name, streamCreated: stream.created }).sort({ sequence: -1 }).limit(2).toArray();
      const old = await heads.find({ stream: stream.name, _id: { $nin: kept.map((h) => h._id) } }).toArray();
      if (old.length) {
        await heads.deleteMany({ _id: { $in: old.map((h) => h._id) } });
        await chunks.deleteMany({ snapshot: { $in: old.map((h) => h._id) } });
      }
    },
  };
}
