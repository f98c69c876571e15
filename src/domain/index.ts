export * from './role.js';
export * from './request.js';
export * from './slo.js';
export * from './load.js';
export * from './observation.js';
export * from './fleet.js';
export * from './decision.js';
export * from './errors.js';
