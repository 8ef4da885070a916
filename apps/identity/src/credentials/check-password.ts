import type { Db } from 'mongodb';
import { DomainError, ErrorCode } from '@app/contracts';
import { findUserByLogin } from '../projections/users.read';
import type { UserDocument } from '../projections/users.projection';
import { passwords, type PasswordDocument } from './credentials.repository';
import { assertNotThrottled, clearLoginFailures, recordFailure, type LoginMetrics } from './login-throttle';
import { dummyHash, verifyPassword } from './password-hash';

export const invalidCredentials = () => new DomainError(ErrorCode.INVALID_CREDENTIALS, 'wrong login or password');

/**
 * Login + password → the user. Unknown login, an account without a password and a wrong password all give
 * the same INVALID_CREDENTIALS, and all cost one scrypt (against a dummy hash when there is nothing to
 * compare with), so neither the answer nor its timing tells whether the login exists. Failures are counted
 * per login and per IP (login-throttle.ts).
 */
export async function checkPassword(
  db: Db,
  login: string,
  password: string,
  ip?: string,
  metrics?: LoginMetrics,
): Promise<{ user: UserDocument; credential: PasswordDocument }> {
  const loginText = typeof login === 'string' ? login : '';
  await assertNotThrottled(db, loginText, ip, Date.now(), metrics);
  const user = await findUserByLogin(db, loginText);
  const credential = user ? await passwords(db).findOne({ _id: user._id }) : null;
  const given = typeof password === 'string' && password.length <= 1024 ? password : '';
  const ok = await verifyPassword(given, credential?.hash ?? (await dummyHash()));
  if (!user || !credential || !ok) {
    await recordFailure(db, loginText, ip, Date.now(), metrics);
    throw invalidCredentials();
  }
  await clearLoginFailures(db, loginText, ip);
  return { user, credential };
}
