/**
 * bench/accounts: one `POST /organizations/{org}/accounts` with a batch of accounts (500 by default, the
 * contract's maximum) through the gateway, next to one with a single account in the same run as the
 * baseline. Prints the time of each and the time per account.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/accounts/main.ts [accounts=500]
 *
 * Uses MONGO_URL / NATS_URL when set, otherwise starts FerretDB and nats-server on free ports. All services
 * and the gateway run in this process (as in the e2e tests). One run: the figure is noisy on a shared
 * machine (docs/identity.md "Account batches" has the measurements behind the design).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';

async function main() {
  const size = Number(process.argv[2] ?? 500);
  const infra = await provideTestInfrastructure();
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.NATS_URL = infra.natsUrl;
  process.env.TEST_SUBJECT_PREFIX = `bench${randomBytes(3).toString('hex')}.`; // the namespace test/support/system gives the services
  process.env.TEST_LOG_LEVEL = 'silent';
  const { startSystem, BOOTSTRAP_TOKEN } = await import('../../test/support/system');
  const { checkContractAndCleanUp } = await import('../../libs/testing/src/per-file');
  const system = await startSystem();
  const headers = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}`, 'Content-Type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const started = process.hrtime.bigint();
    const res = await fetch(`${system.baseUrl}${path}`, {
      method: 'POST',
      headers: { ...headers, 'Idempotency-Key': randomBytes(16).toString('hex') },
      body: JSON.stringify(body),
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const json = (await res.json()) as { id?: string; created?: unknown[]; code?: string };
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${json.code}`);
    return { ms, json };
  };
  try {
    const org = (await post('/api/v1/organizations', { name: 'Bench Accounts' })).json.id!;
    const accounts = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ email: `${tag}${i}@bench.example.com` }));
    const one = await post(`/api/v1/organizations/${org}/accounts`, { accounts: accounts('single', 1) });
    const batch = await post(`/api/v1/organizations/${org}/accounts`, { accounts: accounts('batch', size) });
    process.stdout.write(`\nbench/accounts: ${infra.description}\n\n`);
    process.stdout.write(`POST accounts, 1 account        ${one.ms.toFixed(0).padStart(7)} ms\n`);
    process.stdout.write(
      `POST accounts, ${String(size).padEnd(4)} accounts    ${batch.ms.toFixed(0).padStart(7)} ms  (${(batch.ms / size).toFixed(1)} ms per account; created ${batch.json.created?.length})\n`,
    );
  } finally {
    await system.close();
    await checkContractAndCleanUp().catch(() => undefined);
    await infra.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
