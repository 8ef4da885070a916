export const AUDIT_HOST = Symbol('AUDIT_HOST');
