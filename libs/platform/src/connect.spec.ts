import { maskUrl, reasonOf } from './connect';

describe('maskUrl', () => {
  it('masks the password of every URL, a bare NATS token and secret query values, and keeps the rest', () => {
    expect(maskUrl('mongodb://127.0.0.1:27017/')).toBe('mongodb://127.0.0.1:27017/');
    expect(maskUrl('mongodb://app:s3cret@db-0:27017,db-1:27017/people?replicaSet=rs0')).toBe('mongodb://app:***@db-0:27017,db-1:27017/people?replicaSet=rs0');
    expect(maskUrl('mongodb+srv://app:p%40ss@cluster.example.net/?authSource=admin')).toBe('mongodb+srv://app:***@cluster.example.net/?authSource=admin');
    expect(maskUrl('nats://user:pw@n1:4222,nats://s3cret-token@n2:4222')).toBe('nats://user:***@n1:4222,nats://***@n2:4222');
    expect(maskUrl('nats://n1:4222?token=abc')).toBe('nats://n1:4222?token=[redacted]');
  });
});

describe('reasonOf', () => {
  it('keeps the first line of a message and spells NATS codes in words', () => {
    expect(reasonOf(new Error('CONNECTION_REFUSED'))).toBe('connection refused');
    expect(reasonOf(new Error('connect ECONNREFUSED 127.0.0.1:1\n    at …'))).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(reasonOf('TIMEOUT')).toBe('timeout');
  });
});
