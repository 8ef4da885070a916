import type { Db } from 'mongodb';
import { DomainError, ErrorCode } from '@app/contracts';
import { findUserByLogin } from '../projections/users.read';
import type { UserDocument } from '../projections/users.projection';
import { passwords, type PasswordDocument } from './credentials.repository';
import { dummyHash, verifyPassword } from './password-hash';

export const invalidCredentials = () => new DomainError(ErrorCode.INVALID_CREDENTIALS, 'wrong login or password');

/**
 * Login + password → the user. Unknown login, an account without a password and a wrong password all give
 * the same INVALID_CREDENTIALS, and all cost one scrypt (against a dummy hash when there is nothing to
 * compare with), so neither the answer nor its timing tells whether the login exists.
 */
export async function checkPassword(db: Db, login: string, password: string): Promise<{ user: UserDocument; credential: PasswordDocument }> {
  const user = await findUserByLogin(db, login);
  const credential = user ? await passwords(db).findOne({ _id: user._id }) : null;
  const ok = await verifyPassword(typeof password === 'string' ? password : '', credential?.hash ?? (await dummyHash()));
  if (!user || !credential || !ok) throw invalidCredentials();
  return { user, credential };
}
