import type { Db } from 'mongodb';
import type { DirectoryRecord, DirectoryUpdate } from '../entries/directory';
import { directoryCollection } from './audit.projection';

export interface ChangedRecords {
  /** records that did not exist before the batch: one bulk insert */
  created: DirectoryRecord[];
  /** records that existed and changed: replaced one by one */
  changed: DirectoryRecord[];
}

const REPLACES_PER_COMMAND = 50;

const copy = (r: DirectoryRecord): DirectoryRecord => ({ ...r, ...(r.orgs ? { orgs: [...r.orgs] } : {}) });

/**
 * The lease holder's copy of the directory. Only the lease holder writes the directory, so what it has in
 * memory is what the database has: when the whole directory fits (`max` records) it is loaded once and no
 * batch reads the database for it; otherwise the records a batch needs and does not have are read in one
 * query. Writes are whole records: new ones inserted in bulk, changed ones replaced (a point update per
 * record is what costs most on FerretDB, which scans for each).
 */
export class DirectoryCache {
  private records = new Map<string, DirectoryRecord>();
  private complete = false;

  constructor(
    private readonly db: Db,
    private readonly max: number,
  ) {}

  /** Drops what is cached and loads the whole directory when it is small enough. */
  async reset(): Promise<void> {
    this.records = new Map();
    this.complete = false;
    const count = await directoryCollection(this.db).estimatedDocumentCount();
    if (count > this.max) return;
    for await (const r of directoryCollection(this.db).find()) this.records.set(r._id, r);
    this.complete = true;
  }

  /** A working copy holding (at least) the records of `ids` that exist. */
  async load(ids: Set<string>): Promise<Map<string, DirectoryRecord>> {
    const work = new Map<string, DirectoryRecord>();
    const missing: string[] = [];
    for (const id of ids) {
      const r = this.records.get(id);
      if (r) work.set(id, copy(r));
      else if (!this.complete) missing.push(id);
    }
    if (missing.length) {
      for (const r of await directoryCollection(this.db)
        .find({ _id: { $in: missing } })
        .toArray()) {
        this.remember(r);
        work.set(r._id, copy(r));
      }
    }
    return work;
  }

  /** The records `updates` touched, in their state after the batch, split into new and changed. */
  changed(work: Map<string, DirectoryRecord>, updates: DirectoryUpdate[]): ChangedRecords {
    const touched = new Set(updates.map((u) => (u.op === 'name' ? u.id : u.userId)));
    const out: ChangedRecords = { created: [], changed: [] };
    for (const id of touched) {
      const after = work.get(id);
      if (!after) continue;
      (this.records.has(id) ? out.changed : out.created).push(after);
    }
    return out;
  }

  async write({ created, changed }: ChangedRecords): Promise<void> {
    if (created.length) {
      try {
        await directoryCollection(this.db).insertMany(created.map(copy), { ordered: false });
      } catch (err) {
        // a batch retried after a partial write: replace the ones that made it
        if (!isDuplicateOnly(err)) throw err;
        await this.replace(created);
      }
    }
    await this.replace(changed);
  }

  /**
   * Replaces whole records, at most `REPLACES_PER_COMMAND` per command: FerretDB 1.24 (SQLite) holds a database
   * connection for each statement of an `update` command until the command ends, and a command of more than
   * 100 statements (its pool) waits for ever — that database then answers nothing until the client's connection
   * closes (found after 500 accounts: every user's record changed in one batch; the service's close waited ~14
   * minutes for it).
   */
  private async replace(records: DirectoryRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += REPLACES_PER_COMMAND)
      await directoryCollection(this.db).bulkWrite(
        records.slice(i, i + REPLACES_PER_COMMAND).map((r) => ({ replaceOne: { filter: { _id: r._id }, replacement: copy(r), upsert: true } })),
        { ordered: false },
      );
  }

  /** After a successful write: the cache follows the database. */
  commit({ created, changed }: ChangedRecords): void {
    for (const r of [...created, ...changed]) this.remember(copy(r));
  }

  private remember(r: DirectoryRecord): void {
    if (this.records.size >= this.max && !this.records.has(r._id)) {
      this.records.clear(); // crude bound: start over rather than grow without limit
      this.complete = false;
    }
    this.records.set(r._id, r);
  }
}

function isDuplicateOnly(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code: number } | Array<{ code: number }> };
  const list = e?.writeErrors ? (Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors]) : [];
  return e?.code === 11000 || (list.length > 0 && list.every((w) => w.code === 11000));
}
