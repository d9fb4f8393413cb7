/** `troupe/secrets`: where the process's secrets come from, and how they rotate. Re-exports only. */
export { Secrets, createSecrets } from './secrets.js';
export type { SecretsOptions } from './secrets.js';
export { envSecrets, fileSecrets, secretsFrom } from './sources.js';
export type { EnvSecretsOptions, SecretSource } from './sources.js';
export { SecretNotFoundError, SecretSourceError } from './errors.js';
export { kRedactPaths as redactPaths, redactingLogger } from './redaction.js';
