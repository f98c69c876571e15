export * from './profile.js';
export * from './latency.js';
export * from './fit.js';
export * from './capacity.js';
