import { isIP } from 'node:net';
import { z } from 'zod';
import type { ServiceName } from '@app/contracts';

const port = z.coerce.number().int().min(0).max(65535);
/**
 * Which proxies in front of the gateway are trusted to name the client in X-Forwarded-For: `false` (none, the
 * socket's address is the client), a hop count (`1`: the one load balancer in front; `true` means 1), or a
 * comma-separated list of proxy addresses or CIDR ranges. The client IP is then the right-most address not
 * trusted, never an entry a client could write itself ahead of the proxies'.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): false | number | string[] => {
    if (v === 'false' || v === '0' || v === '') return false;
    if (v === 'true') return 1;
    if (/^\d{1,2}$/.test(v)) return Number(v);
    const list = v.split(',').map((a) => a.trim());
    if (list.every((a) => /^[0-9a-f.:]+(\/\d{1,3})?$/i.test(a) && isIP(a.split('/')[0]) !== 0)) return list;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be false, a hop count, or a comma-separated list of proxy addresses or CIDR ranges' });
    return z.NEVER;
  });
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const DEFAULT_DATABASES: Record<ServiceName, string> = {
  gateway: 'gateway',
  identity: 'identity',
  membership: 'membership',
  authorization: 'authorization',
  'audit-log': 'audit',
};

const baseSchema = z.object({
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\/.+/, 'must be a mongodb:// URL'),
  MONGO_DB: optionalString,
  NATS_URL: z
    .string()
    .regex(/^(nats|tls|wss?):\/\/[^,]+(,(nats|tls|wss?):\/\/[^,]+)*$/, 'must be nats://host:port (comma-separated)')
    .default('nats://127.0.0.1:4222'),
  NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_-]+\.)?$/, 'must be empty or look like "name."')
    .default(''),
  // copies of the streams and KV buckets in a JetStream cluster (3 on a cluster of three; docs/scaling.md)
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
  HTTP_PORT: port.default(0),
  SERVICE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  // how long the first connections to MongoDB and NATS are retried before the process exits 1 (0: for ever)
  CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
});

const serviceSchemas = {
  gateway: baseSchema.extend({
    MONGO_URL: baseSchema.shape.MONGO_URL.optional(),
    GATEWAY_PORT: port.default(3000),
    // Prometheus `/metrics`, on its own port, never on the public one (0: off)
    METRICS_PORT: port.default(9464),
    TRUST_PROXY: trustProxy.default('false'),
    // on SIGTERM: readiness answers 503 and requests are still served this long, then the server closes
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  }),
  identity: baseSchema.extend({
    BOOTSTRAP_ADMIN_EMAIL: z.string().email().optional(),
    BOOTSTRAP_ADMIN_USERNAME: optionalString,
    BOOTSTRAP_ADMIN_TOKEN: z.string().min(20, 'must be at least 20 characters').max(200).optional(),
    SESSION_TTL_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 365)
      .default(12),
    // the longest a service account's token may live (docs/identity.md "Service accounts"); 0: no maximum
    SERVICE_ACCOUNT_TOKEN_MAX_DAYS: z.coerce.number().int().min(0).max(3650).default(365),
  }),
  membership: baseSchema.extend({
    BOOTSTRAP_ORG_NAME: z.string().max(100).optional(),
    BOOTSTRAP_ADMIN_EMAIL: z.string().email().optional(),
  }),
  authorization: baseSchema,
  'audit-log': baseSchema.extend({ AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).default(0) }),
};

export type ServiceConfig<S extends ServiceName> = z.infer<(typeof serviceSchemas)[S]> & {
  service: S;
  database: string;
};

export class ConfigError extends Error {}

/** The metrics port must not be the public one: `/metrics` is never served to the API's clients. */
function samePorts(data: object): Array<{ path: string[]; message: string }> {
  const { GATEWAY_PORT, METRICS_PORT } = data as { GATEWAY_PORT?: number; METRICS_PORT?: number };
  return METRICS_PORT && METRICS_PORT === GATEWAY_PORT
    ? [{ path: ['METRICS_PORT'], message: 'must differ from GATEWAY_PORT (metrics are never served on the public port)' }]
    : [];
}

/** Reads and validates the environment; a wrong value stops start-up with a message naming it. */
export function loadConfig<S extends ServiceName>(service: S, env: NodeJS.ProcessEnv = process.env): ServiceConfig<S> {
  const relevant = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = serviceSchemas[service].safeParse(relevant);
  const issues = parsed.success ? samePorts(parsed.data) : parsed.error.issues;
  if (!parsed.success || issues.length) {
    const lines = issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration of ${service}:\n${lines.join('\n')}`);
  }
  const data = parsed.data as Record<string, unknown>;
  return {
    ...data,
    service,
    database: (data.MONGO_DB as string | undefined) ?? DEFAULT_DATABASES[service],
  } as ServiceConfig<S>;
}

export type NatsConfig = Pick<z.infer<typeof baseSchema>, 'NATS_URL' | 'NATS_SUBJECT_PREFIX'>;

/** The NATS part of the configuration only (URL and subject prefix), validated as for the services: for the CLIs that only talk to a service. */
export function loadNatsConfig(env: NodeJS.ProcessEnv = process.env): NatsConfig {
  const relevant = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = baseSchema.pick({ NATS_URL: true, NATS_SUBJECT_PREFIX: true }).safeParse(relevant);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return parsed.data;
}
