export * from './commands';
export * from './decide';
export * from './entry-map';
export * from './errors';
export * from './events';
export * from './evolve';
export * from './state';
export * from './settings';
