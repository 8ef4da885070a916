export * from './local-servers';
export * from './infra';
export * from './per-file';
export * from './decider-spec';
export * from './csv';
export * from './event-producer';
export * from './outbox';
export * from './org-history';
