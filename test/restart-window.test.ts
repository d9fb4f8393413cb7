import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  LocalRestartWindow,
  SharedRestartWindow,
  allocateRootRestartWindow,
  kMaxSharedRestarts,
  monotonicMs,
} from '../dist/src/supervision/restart-window.js';
import { seededRandom } from '../examples/actors/random.js';
import { fixture } from './helpers.js';

const oneForOne = { strategy: 'one_for_one', maxRestarts: 3, withinMs: 1000, backoff: undefined } as const;

function sharedWindow(maxRestarts: number, withinMs: number): SharedRestartWindow {
  return new SharedRestartWindow(allocateRootRestartWindow({ ...oneForOne, maxRestarts, withinMs })!);
}

describe('restart windows', () => {
  it('the shared ring admits exactly what the list of restart times admits', () => {
    const random = seededRandom(7);
    for (const [maxRestarts, withinMs] of [[1, 10], [3, 50], [10, 100], [64, 20]]) {
      const local = new LocalRestartWindow(maxRestarts, withinMs);
      const shared = sharedWindow(maxRestarts, withinMs);
      let now = 1000;
      let admitted = 0;
      let refused = 0;
      for (let i = 0; i < 5000; i++) {
        // faster than the limit on average, so it is hit, with jumps of exactly one window
        // (the edge: the oldest restart leaves it) that open it again
        const step = random() < 0.05 ? withinMs : Math.floor((random() * withinMs) / maxRestarts);
        now += step;
        const expected = local.admit(now);
        expect(shared.admit(now), `max ${maxRestarts} within ${withinMs}, restart ${i} at ${now}`).toBe(expected);
        if (expected) admitted++;
        else refused++;
      }
      // both outcomes were exercised
      expect(admitted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    }
  });

  it('a closed window admits nothing, on any thread that maps it', () => {
    const memory = allocateRootRestartWindow({ ...oneForOne, maxRestarts: 5, withinMs: 1000 })!;
    const window = new SharedRestartWindow(memory);
    expect(window.admit(0)).toBe(true);
    window.close();
    expect(window.admit(1)).toBe(false);
    expect(new SharedRestartWindow(memory).admit(10_000)).toBe(false);
  });

  it('is shared only where workers may decide: one_for_one, no backoff, a limit from 1 to kMaxSharedRestarts', () => {
    expect(allocateRootRestartWindow(oneForOne)?.byteLength).toBe(24 + 3 * 8);
    expect(allocateRootRestartWindow({ ...oneForOne, strategy: 'one_for_all' })).toBeUndefined();
    expect(allocateRootRestartWindow({ ...oneForOne, strategy: 'rest_for_one' })).toBeUndefined();
    expect(allocateRootRestartWindow({ ...oneForOne, backoff: { minMs: 1, maxMs: 2, jitter: 0 } })).toBeUndefined();
    expect(allocateRootRestartWindow({ ...oneForOne, maxRestarts: 0 })).toBeUndefined();
    expect(allocateRootRestartWindow({ ...oneForOne, maxRestarts: kMaxSharedRestarts + 1 })).toBeUndefined();
    expect(() => new SharedRestartWindow(new SharedArrayBuffer(30))).toThrow(/24 \+ 8n bytes/);
  });

  it('threads racing for restarts are granted exactly maxRestarts between them', async () => {
    const maxRestarts = 1000;
    const threads = 4;
    const attempts = 5000;
    const memory = allocateRootRestartWindow({ ...oneForOne, maxRestarts, withinMs: 3_600_000 })!;
    const start = new SharedArrayBuffer(8);
    const gate = new Int32Array(start);
    const workers = Array.from({ length: threads }, () => new Worker(fixture('window-hammer'), { workerData: { memory, start, attempts } }));
    const granted = workers.map((worker) => new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }));
    // the main thread races too, as the root does
    const main = new SharedRestartWindow(memory);
    while (Atomics.load(gate, 1) < threads) await new Promise((resolve) => setImmediate(resolve));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    let mainGranted = 0;
    for (let i = 0; i < attempts; i++) if (main.admit(monotonicMs())) mainGranted++;
    const counts = await Promise.all(granted);
    await Promise.all(workers.map((worker) => worker.terminate()));
    expect(counts.reduce((a, b) => a + b, mainGranted)).toBe(maxRestarts);
  });
});
