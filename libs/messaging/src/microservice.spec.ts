import { natsMicroserviceOptions } from './microservice';

describe('natsMicroserviceOptions', () => {
  const env = process.env.NATS_SUBJECT_PREFIX;
  afterEach(() => {
    if (env === undefined) delete process.env.NATS_SUBJECT_PREFIX;
    else process.env.NATS_SUBJECT_PREFIX = env;
  });

  it('names the queue group with the prefix it is given, whatever the environment says', () => {
    process.env.NATS_SUBJECT_PREFIX = 'other.';
    expect(natsMicroserviceOptions('membership', 'nats://127.0.0.1:4222', 'acme.').options).toMatchObject({ queue: 'acme.membership' });
    delete process.env.NATS_SUBJECT_PREFIX;
    expect(natsMicroserviceOptions('identity', 'nats://a:1,nats://b:2', '').options).toMatchObject({
      queue: 'identity',
      servers: ['nats://a:1', 'nats://b:2'],
    });
  });
});
