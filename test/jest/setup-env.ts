import { randomBytes } from 'node:crypto';

// Each test file gets its own NATS subject namespace (and so its own JetStream streams and consumers),
// set before any module of the product is imported.
process.env.NATS_SUBJECT_PREFIX = `t${randomBytes(5).toString('hex')}.`;
