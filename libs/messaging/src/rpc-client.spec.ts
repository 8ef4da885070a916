import { isCommandSubject, subjectLabel } from './rpc-client';

describe('subjectLabel (the subject label of NATS request metrics)', () => {
  it('is the subject as the code names it (the namespace prefix is added on the wire only)', () => {
    expect(subjectLabel('qry.authorization.check')).toBe('qry.authorization.check');
    expect(subjectLabel('cmd.identity.session.login')).toBe('cmd.identity.session.login');
  });

  it('replaces segments that look like ids, so the label has as many values as the code has subjects', () => {
    expect(subjectLabel('qry.identity.get-user.5b0a7c8e-2f8e-4c1b-9d6a-0e3f4a5b6c7d')).toBe('qry.identity.get-user.:id');
    expect(subjectLabel('cmd.membership.organization.12345.add-person')).toBe('cmd.membership.organization.:id.add-person');
    expect(subjectLabel('qry.audit-log.entries.0123456789abcdef0123')).toBe('qry.audit-log.entries.:id');
  });

  it('tells commands from queries by the subject the code names', () => {
    expect(isCommandSubject('cmd.identity.session.login')).toBe(true);
    expect(isCommandSubject('qry.identity.get-user')).toBe(false);
  });
});
