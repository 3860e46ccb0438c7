export { configSchema, type Config, type DimseConfig, type StorageConfig, type StudiesConfig } from './schema.js';
export { loadConfig, parseConfig, envOverrides, ENV_PREFIX } from './load.js';
export { loadConfigOrExit } from './load-or-exit.js';
