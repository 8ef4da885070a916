export * from './config';
export * from './logger';
export * from './infrastructure';
export * from './service-runtime';
export * from './main';
