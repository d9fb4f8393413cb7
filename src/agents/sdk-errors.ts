/**
 * What a failed LLM call becomes. Both official SDKs (openai v6,
 * @anthropic-ai/sdk v1) share one error model (APIError with `status` and a
 * fetch `Headers` object; APIUserAbortError, APIConnectionError,
 * APIConnectionTimeoutError), so one mapping serves both; each adapter hands
 * in its SDK's classes.
 *
 * An `Attempt` owns the call's deadline and signal, because the SDKs' own
 * `timeout` only covers the wait for response headers (the timer is cleared
 * once fetch resolves): a body or a stream that stalls after the headers would
 * otherwise hang the call forever. And both SDKs' stream iterators end quietly,
 * without throwing, when their request is aborted, so only the attempt knows
 * whether a short stream was cancelled, timed out, or cut by the server.
 */
import { TroupeError } from '../errors.js';
import { LlmAbortedError, LlmApiError, LlmConnectionError, LlmMalformedResponseError, LlmTimeoutError } from './errors.js';
import type { CompleteOptions } from './llm-types.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes of one SDK (the `OpenAI` or `Anthropic` default export carries them as statics). */
export interface SdkErrorClasses {
  APIError: ErrorClass;
  APIUserAbortError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
}

interface HeadersLike {
  get(name: string): string | null;
}

/** setTimeout fires at once for delays past 2^31 - 1 ms; a longer deadline is no deadline. */
const kMaxTimerMs = 2 ** 31 - 1;

/**
 * In-stream error events carry no HTTP status (the stream already answered
 * 200), only the API's error type; these are the ones worth another attempt.
 */
const kStreamErrorStatus: Record<string, number> = {
  overloaded_error: 529,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  api_error: 500,
  server_error: 500,
};

/** `retry-after-ms` (milliseconds), else `retry-after` (seconds, possibly fractional, or an HTTP date). */
export function retryAfterMsOf(headers: HeadersLike | undefined, now = Date.now()): number | undefined {
  if (headers === undefined || headers === null || typeof headers.get !== 'function') return undefined;
  const msText = headers.get('retry-after-ms');
  if (msText !== null && msText.trim() !== '') {
    const ms = Number(msText);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  const text = headers.get('retry-after');
  if (text === null || text.trim() === '') return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Tool arguments arrive as JSON text: parsed, or the raw text when it is not JSON. An empty text is no arguments. */
export function parseArguments(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `instanceof` without narrowing: every SDK class is an Error, so a narrowing check would leave `never` behind it. */
function isA(value: Error, cls: ErrorClass): boolean {
  return value instanceof cls;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The API's own words: OpenAI keeps `error.message`, Anthropic `apiMessage` (its body is `{ error: { message } }`). */
function detailOf(error: Error): string {
  const e = error as Error & { apiMessage?: unknown; error?: unknown };
  if (typeof e.apiMessage === 'string' && e.apiMessage !== '') return e.apiMessage;
  const body = e.error;
  if (isRecord(body)) {
    if (typeof body.message === 'string' && body.message !== '') return body.message;
    if (isRecord(body.error) && typeof body.error.message === 'string' && body.error.message !== '') return body.error.message;
  }
  return error.message;
}

/** The API's error type (`rate_limit_error`, `server_error`, ...) from either SDK's error body. */
function errorTypeOf(error: Error): string | undefined {
  const e = error as Error & { type?: unknown; error?: unknown };
  if (typeof e.type === 'string') return e.type;
  const body = e.error;
  if (isRecord(body) && isRecord(body.error) && typeof body.error.type === 'string') return body.error.type;
  if (isRecord(body) && typeof body.type === 'string') return body.type;
  return undefined;
}

/** The SDK's words and, when different, the innermost cause's ("Connection error. (other side closed)"). */
function withRootCause(error: Error): string {
  let root: unknown = error;
  for (let depth = 0; depth < 5 && root instanceof Error && root.cause instanceof Error; depth++) root = root.cause;
  const rootMessage = root instanceof Error && root !== error ? root.message : '';
  return rootMessage === '' || error.message.includes(rootMessage) ? error.message : `${error.message} (${rootMessage})`;
}

/**
 * undici fails a body read that the server cut short with `TypeError: terminated`;
 * Anthropic's SDK wraps that in an APIConnectionError. The answer had begun, so it
 * is malformed, not a failure to connect.
 */
function isCutBody(error: Error): boolean {
  const cause = (error as { cause?: unknown }).cause;
  return error.message === 'terminated' || (cause instanceof Error && cause.message === 'terminated');
}

/**
 * One attempt of one call: its signal (the caller's, plus the deadline), and
 * the typed error any failure of it becomes.
 */
export class Attempt {
  /** Pass to the SDK: aborts on the caller's signal or at the deadline. */
  readonly signal: AbortSignal;
  /** The SDK's per-request `timeout` (a positive integer, as the SDKs insist), or undefined for none. */
  readonly sdkTimeoutMs: number | undefined;
  readonly #provider: string;
  readonly #timeoutMs: number;
  readonly #caller: AbortSignal;
  readonly #sdk: SdkErrorClasses;
  readonly #controller = new AbortController();
  readonly #onCallerAbort = () => this.#controller.abort();
  #timer: NodeJS.Timeout | undefined;
  #deadlinePassed = false;

  constructor(provider: string, options: CompleteOptions, sdk: SdkErrorClasses) {
    this.#provider = provider;
    this.#timeoutMs = options.timeoutMs;
    this.#caller = options.signal;
    this.#sdk = sdk;
    this.signal = this.#controller.signal;
    const bounded = Number.isFinite(options.timeoutMs) && options.timeoutMs <= kMaxTimerMs;
    this.sdkTimeoutMs = bounded ? Math.max(1, Math.ceil(options.timeoutMs)) : undefined;
    if (options.signal.aborted) this.#controller.abort();
    else options.signal.addEventListener('abort', this.#onCallerAbort, { once: true });
    if (bounded) {
      this.#timer = setTimeout(() => {
        this.#deadlinePassed = true;
        this.#controller.abort();
      }, Math.max(0, options.timeoutMs));
    }
  }

  /** The SDK request options for this attempt. */
  get requestOptions(): { signal: AbortSignal; timeout?: number } {
    return this.sdkTimeoutMs === undefined ? { signal: this.signal } : { signal: this.signal, timeout: this.sdkTimeoutMs };
  }

  /** Why the attempt was stopped from outside, as the error to throw; undefined while it may go on. The caller's abort wins over the deadline. */
  stopped(): Error | undefined {
    if (this.#caller.aborted) return new LlmAbortedError(this.#provider);
    if (this.#deadlinePassed) return new LlmTimeoutError(this.#provider, this.#timeoutMs);
    return undefined;
  }

  /**
   * The typed error for whatever the SDK threw. `phase` 'stream' is while
   * reading an open stream: anything there that is not a stop from outside
   * means the answer could not be read, so it is malformed.
   */
  fail(error: unknown, phase: 'request' | 'stream'): Error {
    if (error instanceof TroupeError) return error;
    const stopped = this.stopped();
    if (stopped !== undefined) return stopped;
    const provider = this.#provider;
    const sdk = this.#sdk;
    if (!(error instanceof Error)) return new LlmMalformedResponseError(provider, String(error), { cause: error });
    if (isA(error, sdk.APIUserAbortError)) return new LlmAbortedError(provider);
    if (isA(error, sdk.APIConnectionTimeoutError)) return new LlmTimeoutError(provider, this.#timeoutMs, { cause: error });
    if (isA(error, sdk.APIConnectionError)) {
      if (isCutBody(error)) return new LlmMalformedResponseError(provider, 'the connection closed in the middle of the body', { cause: error });
      return new LlmConnectionError(provider, withRootCause(error), { cause: error });
    }
    if (isA(error, sdk.APIError)) {
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number') {
        return new LlmApiError(provider, status, detailOf(error), retryAfterMsOf((error as { headers?: HeadersLike }).headers), { cause: error });
      }
      // An error event inside a stream: retryable when its type says the server is busy or broken.
      const type = errorTypeOf(error);
      const streamStatus = type === undefined ? undefined : kStreamErrorStatus[type];
      if (streamStatus !== undefined) return new LlmApiError(provider, streamStatus, `${type} in the stream: ${detailOf(error)}`, undefined, { cause: error });
      return new LlmMalformedResponseError(provider, `error event in the stream: ${detailOf(error)}`, { cause: error });
    }
    // Past the SDK's own errors: a body that is not JSON (SyntaxError), or a read cut short (TypeError).
    if (phase === 'stream' || error instanceof SyntaxError || error instanceof TypeError) {
      return new LlmMalformedResponseError(provider, error.message, { cause: error });
    }
    // Anything else is the SDK refusing the request before sending it: a bug, not a response.
    return error;
  }

  /** Clears the deadline and lets go of the caller's signal. Call once the attempt is over, however it ended. */
  end(): void {
    clearTimeout(this.#timer);
    this.#caller.removeEventListener('abort', this.#onCallerAbort);
  }
}

/**
 * Reads an SDK stream to its end through `add` (which returns the text a
 * chunk carries, or ''), forwarding text to `onToken`. An SDK throw while
 * reading is the attempt's typed error; a throw of `add` (events out of
 * order) or of `onToken` (the caller's own) leaves early, and leaving early
 * must abort the request, which the iterator's return() does. A stream that
 * ended because it was aborted ends quietly in both SDKs: the attempt says so.
 */
export async function readStream<T>(stream: AsyncIterable<T>, attempt: Attempt, add: (chunk: T) => string, onToken: ((text: string) => void) | undefined): Promise<void> {
  const chunks = stream[Symbol.asyncIterator]();
  let drained = false;
  try {
    for (;;) {
      let step: IteratorResult<T>;
      try {
        step = await chunks.next();
      } catch (error) {
        drained = true;
        throw attempt.fail(error, 'stream');
      }
      if (step.done === true) break;
      const text = add(step.value);
      if (text !== '') onToken?.(text);
    }
    drained = true;
  } finally {
    if (!drained) await chunks.return?.().catch(() => undefined);
  }
  const stopped = attempt.stopped();
  if (stopped !== undefined) throw stopped;
}
