/** Opens the store a spec names; only that store's driver is loaded (no pg for a SQLite journal). */
import type { JournalBackend } from './backend.js';
import type { StoreSpec } from './store-spec.js';

export async function openBackend(spec: StoreSpec): Promise<JournalBackend> {
  if (spec.kind === 'sqlite') return (await import('./sqlite-backend.js')).openSqlite(spec);
  return (await import('./postgres-backend.js')).openPostgres(spec);
}
