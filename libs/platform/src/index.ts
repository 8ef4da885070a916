export * from './config';
export * from './logger';
export * from './connect';
export * from './health-server';
export * from './infrastructure';
export * from './service-runtime';
export * from './main';
export * from './metrics';
