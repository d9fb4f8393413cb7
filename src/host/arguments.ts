/** Validation of the arguments that reach a host from user code (ask options, module URLs). */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AskOptions, TellOptions } from '../actor/ref.js';
import { InvalidArgumentError } from '../errors.js';

export function askTimeoutOf(options: AskOptions | undefined, fallback: number): number {
  if (options === undefined) return fallback;
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('ask options must be an object');
  const timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined) return fallback;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`ask option "timeoutMs" must be a positive number of milliseconds, received ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

export function moduleHref(moduleUrl: URL | string): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl !== 'string' || moduleUrl.length === 0) {
    throw new InvalidArgumentError('spawn needs the actor module as a URL or an absolute path');
  }
  if (isAbsolute(moduleUrl)) return pathToFileURL(moduleUrl).href;
  try {
    return new URL(moduleUrl).href;
  } catch {
    throw new InvalidArgumentError(`actor module "${moduleUrl}" is neither a URL nor an absolute path (resolve it with new URL('./x.js', import.meta.url))`);
  }
}

/** The correlation id a tell or ask carries: the one given, else the current message's (`current`). */
export function traceOf(options: TellOptions | undefined, current: number): number {
  if (options === undefined) return current;
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('tell/ask options must be an object');
  const id = options.correlationId;
  if (id === undefined) return current;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 0xffffffff) {
    throw new InvalidArgumentError(`option "correlationId" must be an integer from 1 to 2^32-1, received ${String(id)}`);
  }
  return id;
}
