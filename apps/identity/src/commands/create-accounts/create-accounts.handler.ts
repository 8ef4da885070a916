import { randomUUID } from 'node:crypto';
import {
  DomainError,
  Email,
  ErrorCode,
  PersonName,
  Username,
  USERNAME_MAX,
  type CommandMeta,
  type CreateAccountsReply,
  type CreateAccountsRequest,
} from '@app/contracts';
import type { Infrastructure } from '@app/platform';
import { generateTemporaryPassword, hashPassword } from '../../credentials/password-hash';
import { passwords, storePassword } from '../../credentials/credentials.repository';
import { runUserCommand } from '../../user/user-command.runner';
import { validText } from '../../user/user.decider';

const MAX_ACCOUNTS = 500;

/** `Tom.Fern+ci@x.io` → `Tom.Fern-ci`: the part before `@`, reduced to username characters. */
export function usernameBaseOf(email: string): string {
  let base = email.split('@')[0].replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  base = base.slice(0, USERNAME_MAX - 4);
  if (base.length < 2) base = `${base || 'user'}-user`.slice(0, 10);
  return base;
}

async function claimUsername(infra: Infrastructure, wanted: string | undefined, email: string, userId: string): Promise<string> {
  if (wanted !== undefined) {
    if (!(await infra.reservations.claim('username', wanted.toLowerCase(), userId)))
      throw new DomainError(ErrorCode.USERNAME_TAKEN, `username ${wanted} is taken`, { username: wanted });
    return wanted;
  }
  const base = usernameBaseOf(email);
  for (let n = 0; n < 200; n++) {
    const candidate = n === 0 ? base : `${base}${n}`;
    if (await infra.reservations.claim('username', candidate.toLowerCase(), userId)) return candidate;
  }
  const random = `${base}-${randomUUID().slice(0, 8)}`;
  if (await infra.reservations.claim('username', random.toLowerCase(), userId)) return random;
  throw new DomainError(ErrorCode.USERNAME_TAKEN, `no free username for ${email}`);
}

/**
 * Accounts created by an organization, each with a temporary password (returned once, stored hashed).
 * An email that already belongs to a user is returned under `existing`. Explicit usernames are checked for
 * format and availability before anything is created, so a refusal leaves nothing half done.
 */
export async function createAccounts(infra: Infrastructure, req: CreateAccountsRequest, meta: CommandMeta): Promise<CreateAccountsReply> {
  if (!req || typeof req.organizationId !== 'string' || !Array.isArray(req.accounts) || req.accounts.length === 0 || req.accounts.length > MAX_ACCOUNTS)
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `organizationId and 1 to ${MAX_ACCOUNTS} accounts are required`);
  // every account is checked (and normalized) before any is created
  const accounts = req.accounts.map((a, i) => ({
    email: validText(Email, a?.email, `accounts[${i}].email`),
    username: a?.username === undefined ? undefined : validText(Username, a.username, `accounts[${i}].username`),
    name: a?.name === undefined ? undefined : validText(PersonName, a.name, `accounts[${i}].name`),
  }));
  for (const a of accounts) {
    if (a.username !== undefined) {
      const owner = await infra.reservations.ownerOf('username', a.username.toLowerCase());
      const emailOwner = await infra.reservations.ownerOf('email', a.email.toLowerCase());
      if (owner && owner !== emailOwner) throw new DomainError(ErrorCode.USERNAME_TAKEN, `username ${a.username} is taken`, { username: a.username });
    }
  }

  const reply: CreateAccountsReply = { created: [], existing: [] };
  for (const [i, account] of accounts.entries()) {
    const email = account.email;
    const emailKey = email.toLowerCase();
    const userId = randomUUID();
    if (!(await infra.reservations.claim('email', emailKey, userId))) {
      const owner = await infra.reservations.ownerOf('email', emailKey);
      reply.existing.push({ userId: owner!, email });
      continue;
    }
    let username: string | undefined;
    try {
      username = await claimUsername(infra, account.username, email, userId);
      const temporaryPassword = generateTemporaryPassword();
      await storePassword(infra.db, userId, await hashPassword(temporaryPassword), true);
      await runUserCommand(
        infra,
        { kind: 'CreateAccount', userId, username, email, name: account.name ?? username, organizationId: req.organizationId },
        { ...meta, commandId: `${meta.commandId}:${i}` },
      );
      await infra.reservations.confirm('email', emailKey, userId);
      await infra.reservations.confirm('username', username.toLowerCase(), userId);
      reply.created.push({ userId, email, username, temporaryPassword });
    } catch (err) {
      await infra.reservations.release('email', emailKey, userId);
      if (username) await infra.reservations.release('username', username.toLowerCase(), userId);
      await passwords(infra.db).deleteOne({ _id: userId });
      throw err;
    }
  }
  return reply;
}
