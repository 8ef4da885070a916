/**
 * bench/auth: authenticated requests through the gateway (GET /api/v1/me with a personal API token: bearer
 * strategy → NATS → identity → MongoDB, then NATS → identity for the profile) next to an unauthenticated
 * GET /health in the same run as the baseline.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/auth/main.ts [seconds=10] [concurrency=32]
 *
 * Uses MONGO_URL / NATS_URL when set, otherwise starts FerretDB and nats-server on free ports. All five
 * services and the gateway run in this process (as in the e2e tests), the load generator too, so the
 * figures are a lower bound of a real deployment; the ratio is what matters.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';
import { load, printTable } from '../lib/http-load';

async function main() {
  const seconds = Number(process.argv[2] ?? 10);
  const concurrency = Number(process.argv[3] ?? 32);
  const infra = await provideTestInfrastructure();
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.NATS_URL = infra.natsUrl;
  process.env.TEST_SUBJECT_PREFIX = `bench${randomBytes(3).toString('hex')}.`; // the namespace test/support/system gives the services
  process.env.TEST_LOG_LEVEL = 'silent';
  const { startSystem, BOOTSTRAP_TOKEN } = await import('../../test/support/system');
  const { checkContractAndCleanUp } = await import('../../libs/testing/src/per-file');
  const system = await startSystem();
  try {
    const auth = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
    await load('warm-up', `${system.baseUrl}/api/v1/me`, auth, 4, 2);
    const health = await load('GET /health (no auth)', `${system.baseUrl}/health`, {}, concurrency, seconds);
    const me = await load('GET /api/v1/me (API token)', `${system.baseUrl}/api/v1/me`, auth, concurrency, seconds);
    process.stdout.write(`\nbench/auth: ${seconds}s per scenario, ${concurrency} concurrent keep-alive connections; ${infra.description}\n\n`);
    printTable([health, me]);
    process.stdout.write(
      `\nratio authenticated/baseline: throughput ${(me.rps / health.rps).toFixed(3)}, p50 ${(me.p50 / health.p50).toFixed(2)}x, p99 ${(me.p99 / health.p99).toFixed(2)}x\n`,
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
