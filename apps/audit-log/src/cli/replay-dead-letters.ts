/**
 * npm run dlq:replay -- <projection> — after a fix, asks the running service that owns the projection (over NATS)
 * to re-feed the projection's dead letters (`dlq.<projection>` in the DEADLETTER stream) through it, and prints
 * the outcome:
 *
 *   NATS_URL=nats://127.0.0.1:4222 npm run dlq:replay -- audit-log
 *
 * Each dead letter applied is removed from the dead-letter stream; one that fails again stays (and is logged by
 * the service). Running it twice changes nothing. NATS_URL and NATS_SUBJECT_PREFIX as for the services;
 * DLQ_REPLAY_TIMEOUT_MS (default ten minutes) bounds the wait. Exit status 0 when every dead letter was replayed,
 * 1 otherwise. Projections served: audit-log.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { AuditLogSubjects, subjectNaming, systemMeta, type ReplayDeadLettersReply } from '@app/contracts';
import { callService, rpcClient } from '@app/messaging';
import { loadNatsConfig } from '@app/platform';

const SUBJECTS: Record<string, () => string> = { 'audit-log': AuditLogSubjects.replayDeadLetters };

async function main(): Promise<number> {
  const projection = process.argv[2];
  const subjectOf = projection ? SUBJECTS[projection] : undefined;
  if (!subjectOf) throw new Error(`usage: npm run dlq:replay -- <projection>, one of: ${Object.keys(SUBJECTS).join(', ')}`);
  const config = loadNatsConfig();
  const nc = await connect({ servers: config.NATS_URL.split(','), name: 'dlq-replay' });
  rpcClient(nc, { naming: subjectNaming(config.NATS_SUBJECT_PREFIX) });
  try {
    const subject = subjectOf();
    const timeout = Number(process.env.DLQ_REPLAY_TIMEOUT_MS ?? 600_000);
    process.stdout.write(`replaying the dead letters of ${projection} (${subject})...\n`);
    const r = await callService<ReplayDeadLettersReply>({ nc }, subject, {}, { ...systemMeta(randomUUID()), medium: 'cli' }, timeout);
    process.stdout.write(`done: ${r.replayed} replayed and removed from dlq.${r.projection}, ${r.failed} failed again (kept)\n`);
    return r.failed ? 1 : 0;
  } finally {
    await nc.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error & { code?: string }) => {
    process.stderr.write(`dead-letter replay failed: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    process.exit(1);
  },
);
