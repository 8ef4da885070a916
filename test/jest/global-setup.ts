import { provideTestInfrastructure, type TestInfrastructure } from '../../libs/testing/src/infra';

/** Starts (or finds) MongoDB-wire and NATS JetStream once for the whole run; workers inherit the env. */
export default async function globalSetup(): Promise<void> {
  const infra = await provideTestInfrastructure();
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.NATS_URL = infra.natsUrl;
  process.stdout.write(`\n[test infrastructure] ${infra.description}\n`);
  (globalThis as { __TEST_INFRA__?: TestInfrastructure }).__TEST_INFRA__ = infra;
}
