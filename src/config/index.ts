// Public face of config/: what the daemon and the CLI use.
export { ConfigSchema, POLICY_NAMES, type PdpilotConfig, type PolicyName, type StaticWorkerConfig, type AdminTokenConfig } from './schema.js';
export { loadConfig, validateConfig, defaultConfig, type LoadOptions, type LoadedConfig, type ConfigWarning } from './load.js';
export { summarizeConfig } from './summary.js';
export { renderReference } from './reference.js';
