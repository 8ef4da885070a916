import type { Logger } from 'pino';
import { bootstrapAdminUserId, Email, stableUuid, systemMeta } from '@app/contracts';
import { handleCommand } from '@app/event-store';
import type { ServiceConfig } from '@app/platform';
import type { AccountsDeps } from '../create-accounts/create-accounts.handler';
import { userDecider } from '../../user/user.decider';
import { userStreamId } from '../../user/user.state';
import { usernameBaseOf } from '../create-accounts/create-accounts.handler';
import { generateApiToken, hashToken } from '../../credentials/api-token';
import { apiTokens, storeApiToken } from '../../credentials/credentials.repository';
import { projectUserEvents, usersCollection } from '../../projections/users.projection';

/**
 * First start: when no user exists, create one from BOOTSTRAP_ADMIN_EMAIL with the token
 * BOOTSTRAP_ADMIN_TOKEN (or a generated one, printed once). Ids and the command id derive from the email,
 * so restarts and concurrent replicas converge on the same single user. Variables that can no longer take
 * effect (users exist already; the admin exists with another token) are ignored with a warning that says so.
 */
export async function bootstrapAdmin(deps: AccountsDeps, config: ServiceConfig<'identity'>, log: Logger): Promise<void> {
  if (!config.BOOTSTRAP_ADMIN_EMAIL) return;
  const email = Email.normalize(config.BOOTSTRAP_ADMIN_EMAIL);
  const users = usersCollection(deps.db);
  const userId = bootstrapAdminUserId(email);
  if ((await users.countDocuments({}, { limit: 1 })) > 0 && !(await users.findOne({ _id: userId }))) {
    const which = config.BOOTSTRAP_ADMIN_TOKEN ? 'BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_TOKEN are' : 'BOOTSTRAP_ADMIN_EMAIL is';
    log.warn(
      { email },
      `${which} ignored: users exist already, and the bootstrap admin is only created in an empty database (start with empty databases to use them)`,
    );
    return;
  }
  const { state } = await deps.store.load(userStreamId(userId), userDecider.evolve, userDecider.initialState);
  if (state.exists) {
    const token = config.BOOTSTRAP_ADMIN_TOKEN;
    if (token && !(await apiTokens(deps.db).findOne({ _id: hashToken(token), userId })))
      log.warn({ email }, `BOOTSTRAP_ADMIN_TOKEN is ignored: the bootstrap admin ${email} exists already, with the token it was created with (or a newer one)`);
    return projectUserEvents(deps.db, await deps.store.readStream(userStreamId(userId)));
  }

  // the part before `@` reduced to username characters, as for accounts created by an organization
  const username = config.BOOTSTRAP_ADMIN_USERNAME ?? usernameBaseOf(email);
  const tokenId = stableUuid(`bootstrap-token:${email.toLowerCase()}`);
  const token = config.BOOTSTRAP_ADMIN_TOKEN ?? generateApiToken();
  const claimed =
    (await deps.reservations.claim('username', username.toLowerCase(), userId)) && (await deps.reservations.claim('email', email.toLowerCase(), userId));
  if (!claimed) {
    log.warn({ username }, 'bootstrap skipped: username or email already taken');
    return;
  }
  await storeApiToken(deps.db, { _id: hashToken(token), userId, tokenId, createdAt: new Date(), lastUsedAt: null });
  const meta = systemMeta(`bootstrap-admin:${email.toLowerCase()}`);
  const command = { kind: 'BootstrapAdmin' as const, userId, username, email, tokenId };
  const result = await handleCommand({ ...userDecider, store: deps.store, streamId: userStreamId(userId), command, meta });
  await deps.reservations.confirm('username', username.toLowerCase(), userId);
  await deps.reservations.confirm('email', email.toLowerCase(), userId);
  await projectUserEvents(deps.db, await deps.store.readStream(userStreamId(userId)));
  if (!result.duplicate && result.commit) {
    await deps.relay.flushStream(userStreamId(userId));
    log.info({ userId, username }, 'bootstrap admin created');
    if (!config.BOOTSTRAP_ADMIN_TOKEN) {
      // shown once, on purpose outside the structured (redacted) fields
      process.stdout.write(`\nBootstrap admin ${username} <${email}>: personal API token (shown once): ${token}\n\n`);
    }
  }
}
