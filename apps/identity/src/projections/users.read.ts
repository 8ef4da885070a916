import type { Db } from 'mongodb';
import { DomainError, ErrorCode, type UserProfile } from '@app/contracts';
import { usersCollection, type UserDocument } from './users.projection';

export const toProfile = (user: UserDocument): UserProfile => ({
  id: user._id,
  username: user.username!,
  name: user.name!,
  email: user.email!,
  createdAt: user.createdAt!,
});

/** Login by email or username, both regardless of case (they are unique regardless of case). */
export async function findUserByLogin(db: Db, login: string): Promise<UserDocument | null> {
  if (typeof login !== 'string' || login.length === 0 || login.length > 320) return null;
  const lower = login.toLowerCase();
  const user = await usersCollection(db).findOne(login.includes('@') ? { emailLower: lower } : { usernameLower: lower });
  return user?.exists ? user : null;
}

export async function getExistingUser(db: Db, userId: string): Promise<UserDocument> {
  const user = typeof userId === 'string' ? await usersCollection(db).findOne({ _id: userId }) : null;
  if (!user?.exists) throw new DomainError(ErrorCode.NOT_FOUND, 'user not found');
  return user;
}
