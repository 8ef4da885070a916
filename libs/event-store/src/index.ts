export * from './commit';
export * from './errors';
export * from './event-store';
export * from './reservations';
export * from './outbox-relay';
export * from './projection-runner';
export * from './upcasters';
export * from './command-handler';
