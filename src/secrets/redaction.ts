/**
 * Keeping secrets out of logs, twice over: pino's `redact` removes the
 * fields that carry credentials by name (headers, `*.apiKey`, …), and the
 * `streamWrite` hook scrubs every value the secrets provider has read from
 * the finished line, wherever a careless message put it.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { Secrets } from './secrets.js';

/** Field paths that carry credentials, for pino's `redact`. */
export const kRedactPaths: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.pepper',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.privateKey',
]);

/** A pino logger with {@link kRedactPaths} redacted and every value `secrets` has read scrubbed from each line. */
export function redactingLogger(secrets: Secrets, options: LoggerOptions = {}, destination?: pino.DestinationStream): Logger {
  const extra = Array.isArray(options.redact) ? options.redact : (options.redact?.paths ?? []);
  const merged: LoggerOptions = {
    ...options,
    redact: { paths: [...kRedactPaths, ...extra], censor: '[REDACTED]' },
    hooks: {
      ...options.hooks,
      streamWrite: (line) => secrets.redact(options.hooks?.streamWrite?.(line) ?? line),
    },
  };
  return destination === undefined ? pino(merged) : pino(merged, destination);
}
