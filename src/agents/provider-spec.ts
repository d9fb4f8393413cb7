/**
 * `openai({...})` and `anthropic({...})`: what createAgents needs to start a
 * provider actor. Plain data (it is the actor's spawn argument), checked
 * here so a bad option fails where it is written, not in a worker.
 */
import type { HostName } from '../actor/context.js';
import { InvalidOptionError } from '../errors.js';
import type { BreakerOptions } from './circuit-breaker.js';
import type { RateLimits } from './rate-limiter.js';

export interface RetryOptions {
  /** Attempts per call, the first included (429s, 5xx, timeouts, broken connections). @default 6 */
  attempts?: number;
  /** The first backoff; doubled per attempt, with jitter, unless the API says `retry-after`. @default 500 */
  baseDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
}

export interface Prices {
  /** Price of a million input tokens, in the unit of your choice (USD, say). */
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface ProviderOptions {
  model: string;
  /** @default the SDK's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY) */
  apiKey?: string;
  /** The name of the API key in createAgents' `secrets` (instead of `apiKey`): read at start, and followed when it rotates. */
  apiKeySecret?: string;
  /** Any compatible server. @default the SDK's environment variable (OPENAI_BASE_URL, ANTHROPIC_BASE_URL), else the vendor's API */
  baseURL?: string;
  /** Budgets shared by every caller in the system. @default none */
  limits?: RateLimits;
  retry?: RetryOptions;
  /** Per HTTP attempt. @default 60000 */
  timeoutMs?: number;
  breaker?: BreakerOptions;
  /** For the cost ledger. @default no cost */
  prices?: Prices;
  /** Calls waiting for the budget, past which a call is refused (TROUPE_ERR_LLM_OVERLOADED). @default 100000 */
  maxQueued?: number;
  /** Where the provider actor runs. @default round-robin over the workers */
  host?: HostName;
}

export interface ProviderSpec extends ProviderOptions {
  readonly api: 'openai' | 'anthropic';
}

const kKeys = new Set(['model', 'apiKey', 'apiKeySecret', 'baseURL', 'limits', 'retry', 'timeoutMs', 'breaker', 'prices', 'maxQueued', 'host']);

/** An OpenAI chat-completions provider (or any server that speaks the API). */
export function openai(options: ProviderOptions): ProviderSpec {
  return checked('openai', options);
}

/** An Anthropic messages provider (or any server that speaks the API). */
export function anthropic(options: ProviderOptions): ProviderSpec {
  return checked('anthropic', options);
}

export function isProviderSpec(value: unknown): value is ProviderSpec {
  const api = (value as { api?: unknown } | null)?.api;
  return typeof value === 'object' && value !== null && (api === 'openai' || api === 'anthropic');
}

function checked(api: 'openai' | 'anthropic', options: ProviderOptions): ProviderSpec {
  const where = `${api}()`;
  if (options === null || typeof options !== 'object') throw new InvalidOptionError(where, 'an object with a model', options);
  for (const key of Object.keys(options)) {
    if (!kKeys.has(key)) throw new InvalidOptionError(`${where}.${key}`, `one of ${[...kKeys].join(', ')} (unknown option)`, key);
  }
  if (typeof options.model !== 'string' || options.model.length === 0) throw new InvalidOptionError(`${where}.model`, 'a model name', options.model);
  for (const key of ['apiKey', 'apiKeySecret', 'baseURL'] as const) {
    // A key's value is never echoed back in an error.
    if (options[key] !== undefined && typeof options[key] !== 'string') throw new InvalidOptionError(`${where}.${key}`, 'a string', key === 'apiKey' ? `(a ${typeof options[key]})` : options[key]);
  }
  if (options.apiKey !== undefined && options.apiKeySecret !== undefined) throw new InvalidOptionError(`${where}.apiKeySecret`, 'absent when apiKey is given (one or the other)', '(both)');
  positive(options.timeoutMs, `${where}.timeoutMs`);
  positive(options.maxQueued, `${where}.maxQueued`);
  section(options.limits, `${where}.limits`, ['rpm', 'tpm', 'concurrency', 'windowMs']);
  section(options.retry, `${where}.retry`, ['attempts', 'baseDelayMs', 'maxDelayMs']);
  section(options.breaker, `${where}.breaker`, ['failures', 'cooldownMs']);
  if (options.prices !== undefined) {
    const prices = options.prices;
    if (prices === null || typeof prices !== 'object') throw new InvalidOptionError(`${where}.prices`, 'an object { inputPerMTok, outputPerMTok }', prices);
    for (const key of ['inputPerMTok', 'outputPerMTok'] as const) {
      if (typeof prices[key] !== 'number' || !(prices[key] >= 0)) throw new InvalidOptionError(`${where}.prices.${key}`, 'a number ≥ 0', prices[key]);
    }
  }
  const host = options.host;
  if (host !== undefined && host !== 'main' && !(Number.isInteger(host) && host >= 0)) throw new InvalidOptionError(`${where}.host`, "'main' or a worker index", host);
  return Object.freeze({ ...options, api });
}

function positive(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) throw new InvalidOptionError(name, 'a positive number', value);
}

function section(value: unknown, name: string, keys: string[]): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object') throw new InvalidOptionError(name, `an object { ${keys.join(', ')} }`, value);
  for (const [key, field] of Object.entries(value)) {
    if (!keys.includes(key)) throw new InvalidOptionError(`${name}.${key}`, `one of ${keys.join(', ')} (unknown option)`, key);
    positive(field, `${name}.${key}`);
  }
}
