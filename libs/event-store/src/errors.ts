/** Another writer appended to the stream first: reload and decide again. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} moved past version ${expectedVersion}`);
    this.name = 'ConcurrencyError';
  }
}

export const isDuplicateKey = (err: unknown): boolean => typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;

/**
 * The positions of an unordered bulk insert that failed on a duplicate key, or undefined when the error is
 * something else (or any position failed for another reason).
 */
export function duplicateKeyIndexes(err: unknown): number[] | undefined {
  const writeErrors = (err as { writeErrors?: unknown } | null)?.writeErrors;
  if (writeErrors === undefined) return undefined;
  const list = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as Array<{ code?: number; index?: number }>;
  if (!list.length || list.some((e) => e.code !== 11000 || typeof e.index !== 'number')) return undefined;
  return list.map((e) => e.index as number);
}

/**
 * An upsert that races another one inserting the same new _id fails with a duplicate key on FerretDB
 * (MongoDB retries it itself); done again, it updates the document the other one inserted.
 */
export async function upsertAgainIfRaced(upsert: () => Promise<unknown>): Promise<void> {
  try {
    await upsert();
  } catch (err) {
    if (!isDuplicateKey(err) && !duplicateKeyIndexes(err)) throw err;
    await upsert();
  }
}
