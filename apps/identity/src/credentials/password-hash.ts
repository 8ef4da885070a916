import type { Db } from 'mongodb';
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Passwords: scrypt (RFC 7914) with N = 2^15, r = 8, p = 1, a 16-byte random salt and a 32-byte key,
 * stored as `scrypt$N$r$p$<salt b64>$<key b64>` so the parameters can be raised later without breaking
 * existing hashes. 32 MiB of memory per hash (128·N·r), about 100 ms of one core here (300–600 ms when the
 * machine is busy).
 *
 * Temporary passwords of new accounts are different: 144 random bits chosen by the server, which nobody can
 * guess whatever the hash costs, like API tokens (stored as SHA-256). Stretching them cost 100 ms of CPU per
 * account, 50 s of CPU for a batch of 500; so they are stored as `sha256$<salt b64>$<digest b64>` (SHA-256
 * of salt and password). Their verification still costs one full scrypt, so that a login's timing does not
 * tell an account with a temporary password from an unknown login.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, opts: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...opts, maxmem: 256 * opts.N * opts.r };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

const sha256 = (salt: Buffer, password: string): Buffer => createHash('sha256').update(salt).update(password.normalize('NFC'), 'utf8').digest();

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** For server-generated temporary passwords only (high entropy, see above); microseconds instead of 100 ms. */
export function hashTemporaryPassword(password: string): string {
  const salt = randomBytes(16);
  return ['sha256', salt.toString('base64'), sha256(salt, password).toString('base64')].join('$');
}

const equal = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === 'sha256' && parts.length === 3) {
    const ok = equal(sha256(Buffer.from(parts[1], 'base64'), password), Buffer.from(parts[2], 'base64'));
    await derive(password, Buffer.from(parts[1], 'base64'), PARAMS); // the time of a scrypt check
    return ok;
  }
  const [alg, n, r, p, salt, key] = parts;
  if (alg !== 'scrypt' || !salt || !key) return false;
  const actual = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return equal(actual, Buffer.from(key, 'base64'));
}

/** Hashed against when the login is unknown, so that an unknown login costs as much time as a wrong password. */
let dummy: Promise<string> | undefined;
export const dummyHash = (): Promise<string> => (dummy ??= hashPassword(randomBytes(16).toString('hex')));

/** A temporary password: 24 characters of base64url (144 random bits). Returned once, stored only hashed. */
export const generateTemporaryPassword = (): string => randomBytes(18).toString('base64url');

/**
 * The temporary password of the `index`-th account of a batch whose seed is `seed`: HMAC-SHA256 under
 * identity's own secret (`serverKey`, see `temporaryPasswordKey`) of the seed and the index, cut to the same
 * 24 characters of base64url as a random one. The same seed gives the same passwords, so a retried batch can
 * return them again without anybody storing them; the server key keeps them unguessable even for a client
 * whose Idempotency-Key (from which the gateway derives the seed) is weak or known to others.
 */
export const temporaryPasswordOf = (serverKey: Buffer, seed: string, index: number): string =>
  createHmac('sha256', serverKey).update(`temporary-password:${seed}:${index}`).digest().subarray(0, 18).toString('base64url');

const serverKeys = new WeakMap<Db, Promise<Buffer>>();

/**
 * Identity's key for deriving temporary passwords: 256 random bits made once, on first use, in identity's
 * database (`identity_secrets`, insert-if-absent, so every replica ends up with the same one) and never
 * leaving identity.
 */
export function temporaryPasswordKey(db: Db): Promise<Buffer> {
  let key = serverKeys.get(db);
  if (!key) {
    const col = db.collection<{ _id: string; value: string }>('identity_secrets');
    key = col
      .updateOne({ _id: 'temporary-passwords' }, { $setOnInsert: { value: randomBytes(32).toString('base64') } }, { upsert: true })
      .catch((err) => {
        if ((err as { code?: number }).code !== 11000) throw err; // another replica created it at the same moment
      })
      .then(() => col.findOne({ _id: 'temporary-passwords' }))
      .then((doc) => Buffer.from(doc!.value, 'base64'));
    key.catch(() => serverKeys.delete(db));
    serverKeys.set(db, key);
  }
  return key;
}
