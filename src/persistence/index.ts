/**
 * troupe/persistence: the journal of durable actors. Pass a store to
 * `ActorSystem.start({ store })`; define actors with `persistence` (see
 * defineActor) and spawn them with a name or a persistenceId.
 */
export { sqliteStore, postgresStore } from './store-spec.js';
export type { StoreSpec, SqliteStoreOptions, PostgresStoreOptions } from './store-spec.js';
export type { PersistenceOptions } from '../actor/define-actor.js';
export {
  PersistenceConflictError,
  PersistenceCorruptError,
  PersistenceVersionError,
  PersistenceStoreError,
  PersistenceNotConfiguredError,
} from '../errors.js';
