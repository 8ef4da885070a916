import { provideTestInfrastructure, type TestInfrastructure } from '../../libs/testing/src/infra';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole(o?: { quiet?: boolean }): boolean };

/** Starts (or finds) MongoDB-wire and NATS JetStream once for the whole run; workers inherit the env. */
export default async function globalSetup(): Promise<void> {
  // the web console's build (dist/console) for test/console, once before the workers (not twice at once from two files)
  buildConsole({ quiet: true });
  const infra = await provideTestInfrastructure();
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.NATS_URL = infra.natsUrl;
  process.stdout.write(`\n[test infrastructure] ${infra.description}\n`);
  (globalThis as { __TEST_INFRA__?: TestInfrastructure }).__TEST_INFRA__ = infra;
}
