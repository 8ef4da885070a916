export * from './jetstream';
export * from './rpc';
export * from './microservice';
export * from './meta.guard';
export * from './rpc-client';
export * from './message-contract.guard';
export * from './json-reply';
export * from './large-replies';
