import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { AuthorizationSubjects } from './authorization';
import { IdentitySubjects } from './identity';
import {
  cmdSubject,
  deadLetterStreamName,
  eventsStreamName,
  evtSubject,
  kvBucketName,
  parseEventSubject,
  qrySubject,
  subjectNaming,
  UNPREFIXED,
} from './subjects';

const ROOT = resolve(__dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

describe('subjects and the namespace prefix', () => {
  it('the code names subjects without a prefix', () => {
    expect(evtSubject('identity', 'user.created', 1)).toBe('evt.identity.user.created.v1');
    expect(cmdSubject('membership', 'organization', 'create')).toBe('cmd.membership.organization.create');
    expect(qrySubject('authorization', 'check')).toBe('qry.authorization.check');
    expect(IdentitySubjects.verifyToken()).toBe('qry.identity.verify-token');
    expect(AuthorizationSubjects.check()).toBe('qry.authorization.check');
    expect(eventsStreamName(UNPREFIXED)).toBe('EVENTS');
  });

  it('a naming puts its prefix on the wire and takes it off again; streams and buckets get it without the dot', () => {
    const acme = subjectNaming('acme.');
    expect(acme.subject(evtSubject('identity', 'user.created', 1))).toBe('acme.evt.identity.user.created.v1');
    expect(acme.local('acme.qry.identity.get-user')).toBe('qry.identity.get-user');
    expect(acme.local('qry.identity.get-user')).toBe('qry.identity.get-user');
    expect([eventsStreamName(acme), deadLetterStreamName(acme), kvBucketName(acme, 'IDEMPOTENCY')]).toEqual([
      'ACME_EVENTS',
      'ACME_DEADLETTER',
      'ACME_IDEMPOTENCY',
    ]);
    // production: exactly the subjects of the code
    expect(UNPREFIXED.subject('cmd.identity.session.login')).toBe('cmd.identity.session.login');
    expect([eventsStreamName(UNPREFIXED), deadLetterStreamName(UNPREFIXED), kvBucketName(UNPREFIXED, 'IDEMPOTENCY')]).toEqual([
      'EVENTS',
      'DEADLETTER',
      'IDEMPOTENCY',
    ]);
    expect(parseEventSubject(acme.local('acme.evt.membership.group.created.v2'))).toEqual({ service: 'membership', type: 'group.created', version: 2 });
  });

  it('refuses a prefix that is not one "name." segment', () => {
    for (const bad of ['a.b.', 'acme', 'ac me.', '.']) expect(() => subjectNaming(bad)).toThrow(/subject prefix/);
  });

  it('no file under apps/ or libs/ reads the prefix from the environment: it reaches them as configuration (libs/platform/src/config.ts)', () => {
    const name = ['NATS', 'SUBJECT', 'PREFIX'].join('_');
    const read = new RegExp(`process\\.env(\\.${name}\\b|\\[['"\`]${name}['"\`]\\])|\\b${name}\\b[^\\n]*=\\s*process\\.env\\b`);
    const offenders = ['apps', 'libs']
      .flatMap((dir) => sources(join(ROOT, dir)))
      .filter((file) => read.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
  });
});
