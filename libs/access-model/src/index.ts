export * from './permission-set';
export * from './org-access';
export * from './grants';
export * from './stream-positions';
