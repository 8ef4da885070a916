import { subjectLabel } from './rpc-client';

describe('subjectLabel (the subject label of NATS request metrics)', () => {
  const prefix = process.env.NATS_SUBJECT_PREFIX;
  afterEach(() => {
    if (prefix === undefined) delete process.env.NATS_SUBJECT_PREFIX;
    else process.env.NATS_SUBJECT_PREFIX = prefix;
  });

  it('drops the namespace prefix', () => {
    process.env.NATS_SUBJECT_PREFIX = 'test_42.';
    expect(subjectLabel('test_42.qry.authorization.check')).toBe('qry.authorization.check');
    expect(subjectLabel('test_42.cmd.identity.session.login')).toBe('cmd.identity.session.login');
    delete process.env.NATS_SUBJECT_PREFIX;
    expect(subjectLabel('qry.membership.people')).toBe('qry.membership.people');
  });

  it('replaces segments that look like ids, so the label has as many values as the code has subjects', () => {
    delete process.env.NATS_SUBJECT_PREFIX;
    expect(subjectLabel('qry.identity.get-user.5b0a7c8e-2f8e-4c1b-9d6a-0e3f4a5b6c7d')).toBe('qry.identity.get-user.:id');
    expect(subjectLabel('cmd.membership.organization.12345.add-person')).toBe('cmd.membership.organization.:id.add-person');
    expect(subjectLabel('qry.audit-log.entries.0123456789abcdef0123')).toBe('qry.audit-log.entries.:id');
  });
});
