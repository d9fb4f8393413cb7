/**
 * How long to wait before attempt `attempt + 1` of a call: what the API asked
 * for (retry-after), or exponential backoff with full jitter (AWS's advice:
 * callers that failed together do not retry together).
 */
export function backoffMs(attempt: number, options: { baseDelayMs: number; maxDelayMs: number }, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, options.maxDelayMs);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling * (0.5 + random() * 0.5)));
}
