/**
 * `createSecrets`: one place every secret of the process is read from (JWT
 * keys, the API key pepper, LLM provider keys, the audit key), so none of
 * them sits in code or in configuration files checked in.
 *
 * A value is read once and cached; `refresh()` (also every `refreshMs`)
 * reads every secret asked for again, and each one that changed is handed
 * to its watchers: that is how a key rotates without a restart (the JWT
 * signing key, a provider's API key). The values read are remembered so
 * `redact()` can scrub them from any text, the last line of defence for a
 * log line or error someone wrote carelessly.
 */
import { InvalidArgumentError, InvalidOptionError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import { SecretNotFoundError, SecretSourceError } from './errors.js';
import { kSecretNamePattern, type SecretSource } from './sources.js';

export interface SecretsOptions {
  /** Asked in order; the first that holds a name wins. */
  sources: SecretSource[];
  /** How often the secrets asked for are read again (rotation); 0: only on refresh(). @default 30000 */
  refreshMs?: number;
  /** Records each rotation (the name and source, never the value). */
  audit?: AuditLog;
  /** Called when a periodic refresh fails for a secret (the old value stays in use). */
  onError?: (error: Error) => void;
}

/** Called with a rotated secret's new value; a promise it returns is awaited by refresh(). */
type Watcher = (value: string, name: string) => void | Promise<void>;

/** Shortest secret remembered for redaction: shorter ones would scrub ordinary words. */
const kMinRedactChars = 8;
const kRedacted = '[REDACTED]';

export class Secrets {
  readonly #sources: SecretSource[];
  readonly #audit: AuditLog | undefined;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #values = new Map<string, { value: string; source: string }>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #watchers = new Map<string, Set<Watcher>>();
  /** Every value ever read, current and rotated out: an old key must not surface in a log either. */
  readonly #known = new Set<string>();
  #redactOrder: string[] | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<string[]> | undefined;

  constructor(options: SecretsOptions) {
    if (options === null || typeof options !== 'object' || !Array.isArray(options.sources) || options.sources.length === 0) {
      throw new InvalidOptionError('createSecrets', 'an object { sources: [envSecrets(), fileSecrets(dir), …] }', options);
    }
    for (const [i, source] of options.sources.entries()) {
      if (source === null || typeof source !== 'object' || typeof source.read !== 'function') throw new InvalidOptionError(`createSecrets.sources[${i}]`, 'a secret source (envSecrets, fileSecrets, secretsFrom)', source);
    }
    this.#sources = [...options.sources];
    this.#audit = options.audit;
    this.#onError = options.onError;
    const refreshMs = options.refreshMs ?? 30_000;
    if (!Number.isInteger(refreshMs) || refreshMs < 0 || refreshMs > 2 ** 31 - 1) throw new InvalidOptionError('createSecrets.refreshMs', 'a whole number of milliseconds ≥ 0', refreshMs);
    if (refreshMs > 0) this.#timer = setInterval(() => void this.refresh().catch(() => {}), refreshMs).unref();
  }

  /** The secret's value: cached after the first read. Rejects with SecretNotFoundError or SecretSourceError. */
  get(name: string): Promise<string> {
    try {
      checkName(name);
    } catch (error) {
      return Promise.reject(error);
    }
    const cached = this.#values.get(name);
    if (cached !== undefined) return Promise.resolve(cached.value);
    let pending = this.#pending.get(name);
    if (pending === undefined) {
      pending = this.#read(name).then(
        ({ value, source }) => {
          this.#pending.delete(name);
          this.#remember(name, value, source);
          return value;
        },
        (error: unknown) => {
          this.#pending.delete(name);
          throw error;
        },
      );
      this.#pending.set(name, pending);
    }
    return pending;
  }

  /**
   * Calls `watcher` with the new value each time the secret changes (read
   * now, so a missing secret fails here); returns the unsubscribe function.
   */
  async watch(name: string, watcher: Watcher): Promise<() => void> {
    if (typeof watcher !== 'function') throw new InvalidArgumentError('secrets.watch(name, watcher): watcher must be a function');
    await this.get(name);
    let set = this.#watchers.get(name);
    if (set === undefined) this.#watchers.set(name, (set = new Set()));
    set.add(watcher);
    return () => set.delete(watcher);
  }

  /** Reads every secret asked for again; resolves to the names that changed, once their watchers are done. */
  refresh(): Promise<string[]> {
    return (this.#refreshing ??= this.#refreshAll().finally(() => (this.#refreshing = undefined)));
  }

  /**
   * `text` with every secret value read so far (current or rotated out)
   * replaced by [REDACTED], also as it appears inside a JSON string (a PEM's
   * newlines escaped). Longest first, so a value that contains another is
   * not left half shown. Values under 8 characters are not scrubbed (they
   * would scrub ordinary words): keep secrets long.
   */
  redact(text: string): string {
    let out = text;
    for (const value of this.#redactable()) if (out.includes(value)) out = out.split(value).join(kRedacted);
    return out;
  }

  #redactable(): string[] {
    if (this.#redactOrder === undefined) {
      const forms = new Set<string>();
      for (const value of this.#known) {
        forms.add(value);
        forms.add(JSON.stringify(value).slice(1, -1));
      }
      this.#redactOrder = [...forms].sort((a, b) => b.length - a.length);
    }
    return this.#redactOrder;
  }

  /** Stops the periodic refresh. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  async #refreshAll(): Promise<string[]> {
    const changed: string[] = [];
    for (const [name, current] of [...this.#values]) {
      let next: { value: string; source: string };
      try {
        next = await this.#read(name);
      } catch (error) {
        this.#onError?.(error as Error);
        continue;
      }
      if (next.value === current.value) continue;
      try {
        this.#audit?.append({ type: 'secrets.rotated', subject: name, detail: { source: next.source, previousSource: current.source } });
      } catch (error) {
        // A closed or failed audit log must not stop rotations: the key still changes, the failure is reported.
        this.#onError?.(error as Error);
      }
      this.#remember(name, next.value, next.source);
      changed.push(name);
      for (const watcher of this.#watchers.get(name) ?? []) {
        try {
          await watcher(next.value, name);
        } catch (error) {
          this.#onError?.(error as Error);
        }
      }
    }
    return changed;
  }

  async #read(name: string): Promise<{ value: string; source: string }> {
    for (const source of this.#sources) {
      let value: string | undefined;
      try {
        value = await source.read(name);
      } catch (error) {
        throw new SecretSourceError(name, source.description, error);
      }
      if (value !== undefined) return { value, source: source.description };
    }
    throw new SecretNotFoundError(name, this.#sources.map((s) => s.description));
  }

  #remember(name: string, value: string, source: string): void {
    this.#values.set(name, { value, source });
    if (value.length >= kMinRedactChars && !this.#known.has(value)) {
      this.#known.add(value);
      this.#redactOrder = undefined;
    }
  }
}

/** Builds the secrets provider; see {@link SecretsOptions}. */
export function createSecrets(options: SecretsOptions): Secrets {
  return new Secrets(options);
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !kSecretNamePattern.test(name)) {
    throw new InvalidArgumentError(`a secret name is 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit; received ${typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name}`);
  }
}
