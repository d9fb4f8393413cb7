/** The secrets provider's failures. Their messages name the secret and the sources, never a value. */
import { TroupeError } from '../errors.js';

/** No source holds the secret. */
export class SecretNotFoundError extends TroupeError {
  readonly secret: string;
  constructor(name: string, tried: readonly string[]) {
    super('TROUPE_ERR_SECRET_NOT_FOUND', `secret "${name}" is in none of the sources (${tried.join(', ')})`);
    this.secret = name;
  }
}

/** A source failed to answer (unreadable file, the application's provider threw). */
export class SecretSourceError extends TroupeError {
  readonly secret: string;
  constructor(name: string, source: string, cause: unknown) {
    // The cause's message is not repeated: a provider's error may quote what it read.
    super('TROUPE_ERR_SECRET_SOURCE', `secret "${name}": source ${source} failed (${(cause as { code?: string } | null)?.code ?? (cause as Error | null)?.name ?? 'error'})`, { cause });
    this.secret = name;
  }
}
