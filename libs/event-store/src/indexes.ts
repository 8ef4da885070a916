import type { Collection, Document, IndexDescription } from 'mongodb';

/**
 * Creates indexes one `createIndexes` command at a time: FerretDB v1.24 closes the connection when one
 * command lists several indexes that already exist (seen here; docs/decisions.md), and one at a time is
 * what every server accepts.
 */
export async function ensureIndexes<T extends Document>(collection: Collection<T>, specs: IndexDescription[]): Promise<void> {
  for (const spec of specs) await collection.createIndexes([spec]);
}
