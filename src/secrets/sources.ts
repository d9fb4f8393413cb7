/**
 * Where secrets come from: the environment, a directory of files (how
 * Kubernetes mounts a Secret: one file per key, swapped atomically through
 * a symlink on update), or a function the application supplies (a vault
 * client, a cloud secret manager). Each answers one name at a time, and
 * `undefined` for a name it does not hold, so sources can be stacked.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors.js';

export interface SecretSource {
  /** How the source is named in errors and the audit log (never a value). */
  readonly description: string;
  read(name: string): Promise<string | undefined>;
}

export const kSecretNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface EnvSecretsOptions {
  /** Prepended to the variable name: `jwt-secret` → `${prefix}JWT_SECRET`. @default '' */
  prefix?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** `jwt-secret` is read from `JWT_SECRET` (with the prefix): upper case, `-` and `.` as `_`. */
export function envSecrets(options: EnvSecretsOptions = {}): SecretSource {
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_]*$/.test(prefix)) throw new InvalidOptionError('envSecrets.prefix', 'letters, digits and _', prefix);
  const env = options.env ?? process.env;
  return {
    description: `env${prefix === '' ? '' : ` ${prefix}*`}`,
    async read(name) {
      const value = env[variableOf(prefix, name)];
      return value === undefined || value === '' ? undefined : value;
    },
  };
}

export function variableOf(prefix: string, name: string): string {
  return `${prefix}${name.toUpperCase().replace(/[-.]/g, '_')}`;
}

/** One file per secret in `dir` (a mounted Kubernetes Secret); one trailing newline is dropped. */
export function fileSecrets(dir: string | URL): SecretSource {
  if (dir instanceof URL && dir.protocol !== 'file:') throw new InvalidOptionError('fileSecrets(dir)', 'a directory path or a file: URL', dir.href);
  const base = dir instanceof URL ? fileURLToPath(dir) : dir;
  if (typeof base !== 'string' || base.length === 0) throw new InvalidOptionError('fileSecrets(dir)', 'a directory', dir);
  return {
    description: `files ${base}`,
    async read(name) {
      try {
        return (await readFile(join(base, name), 'utf8')).replace(/\r?\n$/, '');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

/** The application's own lookup (a vault client, a cloud secret manager); return undefined for a name it does not hold. */
export function secretsFrom(read: (name: string) => Promise<string | undefined> | string | undefined, description = 'provider'): SecretSource {
  if (typeof read !== 'function') throw new InvalidOptionError('secretsFrom(read)', 'a function (name) => value | undefined', read);
  return {
    description,
    async read(name) {
      const value = await read(name);
      if (value !== undefined && typeof value !== 'string') throw new TypeError(`the ${description} source returned a ${typeof value}, not a string`);
      return value;
    },
  };
}
