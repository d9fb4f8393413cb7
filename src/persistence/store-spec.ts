/**
 * What `sqliteStore()` and `postgresStore()` return: a description of the
 * journal, plain data, because it crosses into the journal thread (which
 * opens the store) through `workerData`. Validated here, where the user
 * calls, so a bad path or URL fails at once with a typed error.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors.js';

export interface SqliteStoreOptions {
  /** The database file (created with its directory's existing permissions); a `file:` URL or a path, relative to the working directory. */
  path: string | URL;
  /**
   * How long a write waits for another connection's lock (another process
   * on the same file) before the append fails with `TROUPE_ERR_PERSISTENCE_STORE`.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

export interface PostgresStoreOptions {
  /** A `postgres://` connection string, as `pg` takes it. */
  connectionString: string;
  /** Schema of the journal's tables (created when missing). @default 'public' */
  schema?: string;
  /** How long a connection attempt waits before the store is reported unreachable. @default 5000 */
  connectTimeoutMs?: number;
}

export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly path: string; readonly busyTimeoutMs: number }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly schema: string; readonly connectTimeoutMs: number };

/** The embedded journal: one SQLite file in WAL mode with `synchronous=FULL`, written by better-sqlite3 on a thread of its own. */
export function sqliteStore(options: SqliteStoreOptions): StoreSpec {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('sqliteStore', 'an object { path }', options);
  const raw = options.path;
  let path: string;
  if (raw instanceof URL) {
    if (raw.protocol !== 'file:') throw new InvalidOptionError('sqliteStore.path', 'a path or a file: URL', raw.href);
    path = fileURLToPath(raw);
  } else if (typeof raw === 'string' && raw.length > 0 && !raw.includes('\0')) {
    path = raw === ':memory:' ? raw : isAbsolute(raw) ? raw : resolve(raw);
  } else {
    throw new InvalidOptionError('sqliteStore.path', 'a non-empty path or a file: URL', raw);
  }
  if (path === ':memory:') throw new InvalidOptionError('sqliteStore.path', 'a file (an in-memory database is not durable, and the journal thread would keep it to itself)', raw);
  return Object.freeze({ kind: 'sqlite' as const, path, busyTimeoutMs: milliseconds(options.busyTimeoutMs, 'sqliteStore.busyTimeoutMs', 5000) });
}

/** A journal in PostgreSQL, for several processes or machines sharing one: `pg`, committed before `persist` resolves. */
export function postgresStore(options: PostgresStoreOptions): StoreSpec {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('postgresStore', 'an object { connectionString }', options);
  const { connectionString } = options;
  if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString)) {
    throw new InvalidOptionError('postgresStore.connectionString', 'a postgres:// URL', connectionString === undefined ? undefined : '(hidden)');
  }
  const schema = options.schema ?? 'public';
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidOptionError('postgresStore.schema', 'a lower-case SQL identifier', schema);
  }
  return Object.freeze({ kind: 'postgres' as const, connectionString, schema, connectTimeoutMs: milliseconds(options.connectTimeoutMs, 'postgresStore.connectTimeoutMs', 5000) });
}

export function isStoreSpec(value: unknown): value is StoreSpec {
  if (value === null || typeof value !== 'object') return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'sqlite' || kind === 'postgres';
}

/** Where a spec points, for messages: never the connection string, which may hold a password. */
export function describeStore(spec: StoreSpec): string {
  return spec.kind === 'sqlite' ? `SQLite ${spec.path}` : 'PostgreSQL';
}

function milliseconds(value: number | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) throw new InvalidOptionError(option, 'an integer of milliseconds', value);
  return value;
}
