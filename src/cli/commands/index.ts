// Every command of the CLI, each registering itself. One line per command.
export { registerUp } from './up.js';
export { registerConfig } from './config.js';
export { registerTrace } from './trace.js';
export { registerSim } from './sim.js';
export { registerBench } from './bench.js';
export { registerPlan } from './plan.js';
export { registerForecast } from './forecast.js';
export { registerWorker } from './worker.js';
export { registerProfile } from './profile.js';
export { registerReplay } from './replay.js';
