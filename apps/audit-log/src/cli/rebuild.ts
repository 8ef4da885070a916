/**
 * npm run audit:rebuild — asks the running audit-log service (over NATS) to drop its projection and rebuild
 * it from the events stream, and prints what it did:
 *
 *   NATS_URL=nats://127.0.0.1:4222 npm run audit:rebuild
 *
 * NATS_URL and NATS_SUBJECT_PREFIX as for the services; AUDIT_REBUILD_TIMEOUT_MS (default one hour) bounds
 * the wait. Exit status 0 when the rebuild finished, 1 otherwise.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { AuditLogSubjects, subjectNaming, systemMeta, type RebuildReply } from '@app/contracts';
import { callService, rpcClient } from '@app/messaging';
import { loadNatsConfig } from '@app/platform';

async function main(): Promise<void> {
  const config = loadNatsConfig();
  const nc = await connect({ servers: config.NATS_URL.split(','), name: 'audit-rebuild' });
  rpcClient(nc, { naming: subjectNaming(config.NATS_SUBJECT_PREFIX) });
  try {
    const subject = AuditLogSubjects.rebuild();
    const timeout = Number(process.env.AUDIT_REBUILD_TIMEOUT_MS ?? 3_600_000);
    process.stdout.write(`rebuilding the audit log (${subject})...\n`);
    const r = await callService<RebuildReply>({ nc }, subject, {}, { ...systemMeta(randomUUID()), medium: 'cli' }, timeout);
    process.stdout.write(
      `done: ${r.events} events (up to stream sequence ${r.lastSequence}) → ${r.entries} entries, ` +
        `${r.deadLettered} dead-lettered, in ${(r.ms / 1000).toFixed(1)} s (${r.eventsPerSecond} events/s)\n`,
    );
  } finally {
    await nc.close();
  }
}

main().catch((err: Error & { code?: string }) => {
  process.stderr.write(`audit rebuild failed: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
  process.exit(1);
});
