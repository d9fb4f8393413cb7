/** Wall-clock time and bounded waits, as every part of a host reads them. */
import { performance } from 'node:perf_hooks';

// performance.timeOrigin is a getter into C++: read it once.
const kTimeOrigin = performance.timeOrigin;

/** Milliseconds since the epoch, with sub-millisecond precision: what events and exits are stamped with. */
export function now(): number {
  return kTimeOrigin + performance.now();
}

/** Waits for `promise`, at most `ms`; true when it settled in time. `keepAlive` false: the wait holds no event loop open. */
export async function withTimeout(promise: Promise<void>, ms: number, keepAlive = true): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
        if (!keepAlive) timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
