import { ConfigError, loadConfig } from './config';

describe('configuration from the environment', () => {
  const base = { MONGO_URL: 'mongodb://127.0.0.1:27017', NATS_URL: 'nats://127.0.0.1:4222' };

  it('applies defaults', () => {
    const c = loadConfig('identity', base);
    expect(c).toMatchObject({
      database: 'identity',
      LOG_LEVEL: 'info',
      HTTP_PORT: 0,
      SESSION_TTL_HOURS: 12,
      NATS_SUBJECT_PREFIX: '',
      CONNECT_TIMEOUT_SECONDS: 300,
      NATS_STREAM_REPLICAS: 1,
    });
    expect(loadConfig('gateway', { NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS).toBe(3);
    expect(loadConfig('audit-log', base).database).toBe('audit');
    expect(loadConfig('gateway', {}).GATEWAY_PORT).toBe(3000);
    expect(loadConfig('gateway', {}).METRICS_PORT).toBe(9464);
    expect(loadConfig('gateway', { METRICS_PORT: '0' }).METRICS_PORT).toBe(0);
  });

  it.each([
    ['gateway', { GATEWAY_PORT: 'abc' }, 'GATEWAY_PORT'],
    ['gateway', { METRICS_PORT: '70000' }, 'METRICS_PORT'],
    ['gateway', { GATEWAY_PORT: '8080', METRICS_PORT: '8080' }, 'METRICS_PORT'],
    ['gateway', { METRICS_PORT: '3000' }, 'METRICS_PORT'],
    ['identity', { ...base, MONGO_URL: 'postgres://x' }, 'MONGO_URL'],
    ['identity', { NATS_URL: 'nats://x:1' }, 'MONGO_URL'],
    ['identity', { ...base, BOOTSTRAP_ADMIN_EMAIL: 'not-an-email' }, 'BOOTSTRAP_ADMIN_EMAIL'],
    ['identity', { ...base, BOOTSTRAP_ADMIN_TOKEN: 'short' }, 'BOOTSTRAP_ADMIN_TOKEN'],
    ['membership', { ...base, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['gateway', { TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    ['gateway', { TRUST_PROXY: '10.0.0.1,example.com' }, 'TRUST_PROXY'],
    ['gateway', { TRUST_PROXY: '10.0.0.0/8x' }, 'TRUST_PROXY'],
    ['authorization', { ...base, NATS_SUBJECT_PREFIX: 'a.b' }, 'NATS_SUBJECT_PREFIX'],
    ['gateway', { CONNECT_TIMEOUT_SECONDS: '-1' }, 'CONNECT_TIMEOUT_SECONDS'],
    ['membership', { ...base, NATS_STREAM_REPLICAS: '0' }, 'NATS_STREAM_REPLICAS'],
    ['gateway', { NATS_STREAM_REPLICAS: 'three' }, 'NATS_STREAM_REPLICAS'],
  ] as const)('%s refuses %j naming %s', (service, env, name) => {
    expect(() => loadConfig(service, env)).toThrow(ConfigError);
    expect(() => loadConfig(service, env)).toThrow(new RegExp(`${name}:`));
  });

  it.each([
    ['false', false],
    ['0', false],
    ['true', 1],
    ['2', 2],
    ['10.0.0.1, 10.1.0.0/16,::1', ['10.0.0.1', '10.1.0.0/16', '::1']],
  ] as const)('TRUST_PROXY=%s is %j (true means one hop: the proxy in front)', (value, expected) => {
    expect(loadConfig('gateway', { TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig('identity', { ...base, BOOTSTRAP_ADMIN_EMAIL: '', MONGO_DB: '' }).database).toBe('identity');
  });
});
