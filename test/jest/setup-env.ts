import { randomBytes } from 'node:crypto';

// Each test file gets its own NATS subject namespace (and so its own JetStream streams and consumers). The prefix
// reaches the services under test only through the configs the tests build (libs/testing/src/per-file.ts), never
// through the environment: NATS_SUBJECT_PREFIX is removed, so code that still read it would share the empty namespace.
process.env.TEST_SUBJECT_PREFIX = `t${randomBytes(5).toString('hex')}.`;
delete process.env.NATS_SUBJECT_PREFIX;
