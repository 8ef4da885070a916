import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { DomainError, ErrorCode, stableUuid, USERNAME_MAX, type CommandMeta, type CreateAccountsReply, type CreateAccountsRequest } from '@app/contracts';
import {
  duplicateKeyIndexes,
  isDuplicateKey,
  type ClaimRequest,
  type CommitDocument,
  type EventStore,
  type OutboxRelay,
  type Reservations,
} from '@app/event-store';
import { generateTemporaryPassword, hashTemporaryPassword, temporaryPasswordKey, temporaryPasswordOf } from '../../credentials/password-hash';
import { passwords } from '../../credentials/credentials.repository';
import { usersCollection, type UserDocument } from '../../projections/users.projection';
import { decideUser } from '../../user/user.decider';
import { evolveUser, initialUserState, userStreamId } from '../../user/user.state';

/** `Tom.Fern+ci@x.io` → `Tom.Fern-ci`: the part before `@`, reduced to username characters. */
export function usernameBaseOf(email: string): string {
  let base = email
    .split('@')[0]
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  base = base.slice(0, USERNAME_MAX - 4);
  if (base.length < 2) base = `${base || 'user'}-user`.slice(0, 10);
  return base;
}

/** The n-th username tried for a base: `tom`, `tom1`, `tom2`, … (at most 39 characters). */
export const usernameCandidate = (base: string, n: number): string => (n === 0 ? base : `${base}${n}`);

/**
 * The user id of the `index`-th account of a command: the same on every run of the command, so a retried
 * batch finds its own reservations, commits and passwords instead of making new ones.
 */
export const accountUserId = (commandId: string, index: number): string => stableUuid(`account:${commandId}:${index}`);

interface Account {
  index: number;
  userId: string;
  email: string;
  emailKey: string;
  /** the username asked for, if any */
  wanted?: string;
  name?: string;
}

/** One document per batch (command id): a second run of the command knows it is a retry. */
const batches = (db: Db): Collection<{ _id: string; organizationId: string; accounts: number; startedAt: Date }> => db.collection('account_batches');

/** Everything that can be refused from the request alone, before anything is written. */
function accountsOf(req: CreateAccountsRequest, meta: CommandMeta): Account[] {
  // every account arrives checked and normalized with the contract's definitions (CreateAccountsRequest)
  return req.accounts.map(({ email, username: wanted, name }, index) => {
    const account: Account = { index, userId: accountUserId(meta.commandId, index), email, emailKey: email.toLowerCase(), wanted, name };
    // the decider's own checks (the username is checked above, or derived valid)
    decideUser(createCommand(account, req.organizationId, wanted ?? 'placeholder'), initialUserState, meta);
    return account;
  });
}

const createCommand = (a: Account, organizationId: string, username: string) =>
  ({ kind: 'CreateAccount', userId: a.userId, username, email: a.email, name: a.name ?? username, organizationId }) as const;

/** A retry: the accounts this command had already created, by user id (from their first commits). */
async function createdBefore(deps: Pick<AccountsDeps, 'store'>, accounts: Account[], commandId: string): Promise<Map<string, CommitDocument>> {
  const commits = await deps.store.commits.find({ _id: { $in: accounts.map((a) => `${userStreamId(a.userId)}@1`) } }).toArray();
  const ours = new Set(accounts.map((a) => `${commandId}:${a.index}`));
  return new Map(commits.filter((c) => ours.has(c.commandId)).map((c) => [c.streamId.slice('user-'.length), c]));
}

/**
 * Usernames for accounts that asked for none: the base of the email, then `base1`, `base2`, … Candidates are
 * chosen unique within the batch and claimed together; only the accounts whose candidate someone else
 * holds go on one claim at a time.
 */
async function claimDerivedUsernames(
  deps: Pick<AccountsDeps, 'reservations'>,
  group: string,
  accounts: Account[],
  chosen: Set<string>,
  claimed: ClaimRequest[],
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const next = new Map<string, number>();
  const pick = (a: Account, from: number): string | undefined => {
    const base = usernameBaseOf(a.email);
    for (let n = from; n < 200; n++) {
      const candidate = usernameCandidate(base, n);
      if (!chosen.has(candidate.toLowerCase())) {
        chosen.add(candidate.toLowerCase());
        next.set(a.userId, n + 1);
        return candidate;
      }
    }
    return undefined;
  };
  const first = accounts.map((a) => ({ account: a, username: pick(a, 0) }));
  const tried = first.filter((f): f is { account: Account; username: string } => f.username !== undefined);
  const claims = tried.map((t) => ({ kind: 'username', value: t.username.toLowerCase(), owner: t.account.userId }));
  const got = await deps.reservations.claimMany(group, claims);
  tried.forEach((t, i) => got[i] && (result.set(t.account.userId, t.username), claimed.push(claims[i])));
  for (const a of accounts) {
    if (result.has(a.userId)) continue;
    for (let candidate = pick(a, next.get(a.userId) ?? 0); !result.has(a.userId); candidate = pick(a, next.get(a.userId) ?? 200)) {
      const username = candidate ?? `${usernameBaseOf(a.email).slice(0, USERNAME_MAX - 9)}-${randomUUID().slice(0, 8)}`;
      if (await deps.reservations.claim('username', username.toLowerCase(), a.userId, group)) {
        result.set(a.userId, username);
        claimed.push({ kind: 'username', value: username.toLowerCase(), owner: a.userId });
      } else if (candidate === undefined) throw new DomainError(ErrorCode.USERNAME_TAKEN, `no free username for ${a.email}`);
    }
  }
  return result;
}

/** The username of a user's first commit (it starts with `user.created`). */
function createdUsername(commit: CommitDocument): string {
  const first = commit.events[0];
  return first.type === 'user.created' ? first.data.username : '';
}

/** The account a batch's commit created: its first event, `user.created`. */
function createdAccount(commit: CommitDocument): { email: string; username: string } {
  const first = commit.events[0];
  if (first.type !== 'user.created') throw new Error(`${commit._id} does not start with user.created`);
  return first.data;
}

/** Users for identity's read model, built from their first commits as the projection would. */
function userDocuments(commits: CommitDocument[]): UserDocument[] {
  return commits.map((c) => {
    const state = c.events.reduce(evolveUser, initialUserState);
    return { ...state, _id: state.id!, usernameLower: state.username?.toLowerCase(), emailLower: state.email?.toLowerCase(), version: c.toVersion };
  });
}

/**
 * Publishes a batch's commits a few streams at a time, after the batch's own writes: the relay's publish
 * right after each append would start 500 publishes and 500 position writes (one per user stream) at once,
 * and on FerretDB they held up the rest of the batch (by 15 s when each was a commit update). Not awaited,
 * as for single commands; a failure is left to the relay's sweep.
 */
async function publishPaced(deps: Pick<AccountsDeps, 'relay'>, commits: CommitDocument[], concurrency = 4): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < commits.length) {
      const c = commits[next++];
      await deps.relay.publishStream(c.streamId, c).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** insertMany that leaves documents already there alone (a concurrent run or projection wrote them). */
async function insertNew<T extends { _id: string }>(col: Collection<T>, docs: T[]): Promise<void> {
  if (!docs.length) return;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await col.insertMany(docs as any[], { ordered: false }).catch((err) => {
    if (!duplicateKeyIndexes(err)) throw err;
  });
}

/** What a batch of accounts writes to. */
export interface AccountsDeps {
  db: Db;
  store: EventStore;
  relay: OutboxRelay;
  reservations: Reservations;
}

/**
 * Accounts created by an organization, each with a temporary password (returned, stored hashed). An email
 * that already belongs to a user is returned under `existing`. Explicit usernames are checked for format and
 * availability before anything is created, so a refusal leaves nothing half done.
 *
 * The whole batch costs a fixed number of database round trips (docs/identity.md "Account batches"): the
 * reservations are claimed in two inserts and confirmed with one write, the passwords and the read model
 * are one insert each, and the users' first commits one insert. A retry of the command (same id) creates
 * nothing twice: user ids derive from the command id, and with a `passwordSeed` the temporary passwords too.
 */
export async function createAccounts(deps: AccountsDeps, req: CreateAccountsRequest, meta: CommandMeta): Promise<CreateAccountsReply> {
  const accounts = accountsOf(req, meta);
  const group = `accounts:${meta.commandId}`;
  const fresh = await batches(deps.db)
    .insertOne({ _id: meta.commandId, organizationId: req.organizationId, accounts: accounts.length, startedAt: new Date() })
    .then(
      () => true,
      (err) => {
        if (!isDuplicateKey(err)) throw err;
        return false;
      },
    );
  const before = fresh ? new Map<string, CommitDocument>() : await createdBefore(deps, accounts, meta.commandId);
  const pending = accounts.filter((a) => !before.has(a.userId));

  // an explicit username held by someone else (other than the owner of the same email: that account exists) is refused up front
  const explicit = pending.filter((a) => a.wanted !== undefined);
  const owners = await deps.reservations.ownersOf(
    explicit.flatMap((a) => [
      { kind: 'username', value: a.wanted!.toLowerCase() },
      { kind: 'email', value: a.emailKey },
    ]),
  );
  for (const a of explicit) {
    const owner = owners.get(`username:${a.wanted!.toLowerCase()}`);
    if (owner && owner !== a.userId && owner !== owners.get(`email:${a.emailKey}`))
      throw new DomainError(ErrorCode.USERNAME_TAKEN, `username ${a.wanted} is taken`, { username: a.wanted });
  }

  const emailClaims: ClaimRequest[] = pending.map((a) => ({ kind: 'email', value: a.emailKey, owner: a.userId }));
  const gotEmail = await deps.reservations.claimMany(group, emailClaims);
  const creating = pending.filter((_, i) => gotEmail[i]);
  const existing = pending.filter((_, i) => !gotEmail[i]);

  const usernames = new Map<string, string>();
  const claimed: ClaimRequest[] = emailClaims.filter((_, i) => gotEmail[i]);
  try {
    const explicitClaims: ClaimRequest[] = creating
      .filter((a) => a.wanted !== undefined)
      .map((a) => ({ kind: 'username', value: a.wanted!.toLowerCase(), owner: a.userId }));
    const gotUsername = await deps.reservations.claimMany(group, explicitClaims);
    explicitClaims.forEach((c, i) => gotUsername[i] && claimed.push(c));
    const refused = creating.find((a) => a.wanted !== undefined && !gotUsername[explicitClaims.findIndex((c) => c.owner === a.userId)]);
    if (refused) throw new DomainError(ErrorCode.USERNAME_TAKEN, `username ${refused.wanted} is taken`, { username: refused.wanted });
    for (const a of creating) if (a.wanted !== undefined) usernames.set(a.userId, a.wanted);
    const chosen = new Set([...before.values()].map((c) => createdUsername(c).toLowerCase()).concat(explicitClaims.map((c) => c.value)));
    const derived = await claimDerivedUsernames(
      deps,
      group,
      creating.filter((a) => a.wanted === undefined),
      chosen,
      claimed,
    );
    for (const [userId, username] of derived) usernames.set(userId, username);
  } catch (err) {
    await deps.reservations.releaseMany(group, claimed); // nothing was appended: every value this run claimed is given back
    throw err;
  }

  // passwords first: a hash whose user was never appended is inert (a login needs the user in the read model)
  const serverKey = req.passwordSeed ? await temporaryPasswordKey(deps.db) : undefined;
  const passwordOf = (a: Account) => (req.passwordSeed && serverKey ? temporaryPasswordOf(serverKey, req.passwordSeed, a.index) : generateTemporaryPassword());
  const temporary = new Map(creating.map((a) => [a.userId, passwordOf(a)]));
  const setAt = new Date();
  const passwordDocs = creating.map((a) => ({ _id: a.userId, hash: hashTemporaryPassword(temporary.get(a.userId)!), temporary: true, setAt }));
  if (!fresh && passwordDocs.length) await passwords(deps.db).deleteMany({ _id: { $in: passwordDocs.map((d) => d._id) } });
  await insertNew(passwords(deps.db), passwordDocs);

  const appended = await deps.store.appendMany(
    creating.map((a) => ({
      streamId: userStreamId(a.userId),
      expectedVersion: 0,
      events: decideUser(createCommand(a, req.organizationId, usernames.get(a.userId)!), initialUserState, meta),
      commandId: `${meta.commandId}:${a.index}`,
    })),
    meta,
    { publish: false },
  );
  if (appended.conflicts.length) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'an account of this batch was created concurrently; try again');
  const commits = [...before.values(), ...appended.appended, ...appended.duplicates];
  await insertNew(usersCollection(deps.db), userDocuments(commits));
  await deps.reservations.confirmGroup(group);

  // the reply, in the order of the request
  const byUser = new Map(commits.map((c) => [c.streamId.slice('user-'.length), createdAccount(c)]));
  const existingOwners = await deps.reservations.ownersOf(existing.map((a) => ({ kind: 'email', value: a.emailKey })));
  const existingIds = existing.map((a) => existingOwners.get(`email:${a.emailKey}`)).filter((id): id is string => id !== undefined && !byUser.has(id));
  const known = new Map(
    (
      await usersCollection(deps.db)
        .find({ _id: { $in: existingIds } }, { projection: { username: 1 } })
        .toArray()
    ).map((u) => [u._id, u.username]),
  );
  const reply: CreateAccountsReply = { created: [], existing: [] };
  for (const a of accounts) {
    const created = byUser.get(a.userId);
    const owner = created ? a.userId : existingOwners.get(`email:${a.emailKey}`);
    if (!owner) continue; // released in between; nothing of it was created here
    const password =
      temporary.get(a.userId) ?? (created && req.passwordSeed && serverKey ? temporaryPasswordOf(serverKey, req.passwordSeed, a.index) : undefined);
    if (created && password) reply.created.push({ userId: a.userId, email: created.email, username: created.username, temporaryPassword: password });
    else {
      const username = byUser.get(owner)?.username ?? known.get(owner);
      reply.existing.push({ userId: owner, email: a.email, ...(username ? { username } : {}) });
    }
  }
  void publishPaced(deps, appended.appended);
  return reply;
}
