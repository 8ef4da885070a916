import type { Collection, Db } from 'mongodb';

interface LeaseDocument {
  _id: string;
  owner: string;
  until: Date;
}

/**
 * A time-bound lease in MongoDB (`projection_leases`): the replica holding it is the only one that runs the
 * projection, so its read model is written by one process in stream order (the audit log's directory,
 * membership's people list). Taken when free or expired, renewed by its owner; a replica that cannot renew stops
 * writing.
 */
export class Lease {
  private readonly leases: Collection<LeaseDocument>;

  constructor(
    db: Db,
    private readonly name: string,
    readonly owner: string,
    readonly ttlMs = 20_000,
  ) {
    this.leases = db.collection<LeaseDocument>('projection_leases');
  }

  /** Takes or renews the lease; false when another owner holds an unexpired one. */
  async acquire(): Promise<boolean> {
    const now = new Date();
    try {
      const r = await this.leases.updateOne(
        { _id: this.name, $or: [{ owner: this.owner }, { until: { $lt: now } }] },
        { $set: { owner: this.owner, until: new Date(now.getTime() + this.ttlMs) } },
        { upsert: true },
      );
      return r.matchedCount + r.upsertedCount > 0;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false; // held by someone else
      throw err;
    }
  }

  /** Takes the lease whoever holds it (the rebuild); returns the previous owner. */
  async steal(): Promise<string | undefined> {
    const previous = await this.leases.findOne({ _id: this.name });
    const take = () => this.leases.updateOne({ _id: this.name }, { $set: { owner: this.owner, until: new Date(Date.now() + this.ttlMs) } }, { upsert: true });
    // two upserts of a missing lease at once (a stopping projection's last renewal) insert twice: one gets a
    // duplicate key, and the lease now exists, so the update matches the second time
    await take().catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
      return take();
    });
    return previous && previous.until > new Date() ? previous.owner : undefined;
  }

  async release(): Promise<void> {
    await this.leases.deleteOne({ _id: this.name, owner: this.owner }).catch(() => undefined);
  }
}
