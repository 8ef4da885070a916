/**
 * npm run migrate:bindings — moves role bindings written before they were membership's (authorization's
 * `access-<org>` streams) onto the organization streams, once (docs/operations.md, "Moving role bindings"):
 *
 *   MONGO_URL=mongodb://… NATS_URL=nats://… npm run migrate:bindings
 *
 * Membership's configuration (MONGO_URL, MONGO_DB, NATS_URL, NATS_SUBJECT_PREFIX). Run it before the new
 * membership service serves commands, with every old service stopped after publishing its outbox. Running it
 * again changes nothing. Exit status 0 when done, 1 otherwise.
 */
import { connectInfrastructure, loadConfig } from '@app/platform';
import { migrateBindings } from '../migrations/migrate-bindings';

async function main(): Promise<void> {
  const infra = await connectInfrastructure(loadConfig('membership', { LOG_LEVEL: 'warn', ...process.env }));
  try {
    const started = Date.now();
    const { js, jsm, naming, store, relay } = infra;
    const r = await migrateBindings({ js, jsm, naming, store, relay });
    process.stdout.write(
      `read ${r.events} events (up to sequence ${r.lastSequence}); bindings imported into ${r.imported.length} organization(s)` +
        `${r.importedBefore.length ? `, ${r.importedBefore.length} imported by an earlier run` : ''} in ${Date.now() - started} ms\n`,
    );
  } finally {
    await infra.close();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`migrate:bindings failed: ${err.message}\n`);
    process.exit(1);
  },
);
