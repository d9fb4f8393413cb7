import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RestartLedger, allocateRestartLedger } from '../dist/src/lane/restart-ledger.js';
import { LocalRestartWindow, kMaxSharedRestarts, monotonicMs, workersMayRestart } from '../dist/src/supervision/restart-window.js';
import { seededRandom } from '../examples/actors/random.js';
import { fixture } from './helpers.js';

const oneForOne = { strategy: 'one_for_one', maxRestarts: 3, withinMs: 1000, backoff: undefined } as const;

const ledger = (maxRestarts: number, withinMs: number): RestartLedger => new RestartLedger(allocateRestartLedger(maxRestarts, withinMs), 0);

describe('restart windows', () => {
  it("the root's shared ledger admits exactly what a supervisor's own list of restart times admits", () => {
    const random = seededRandom(7);
    for (const [maxRestarts, withinMs] of [[1, 10], [3, 50], [10, 100], [64, 20]]) {
      const local = new LocalRestartWindow(maxRestarts, withinMs);
      const shared = ledger(maxRestarts, withinMs);
      let now = 1000;
      let admitted = 0;
      let refused = 0;
      for (let i = 0; i < 5000; i++) {
        // faster than the limit on average, so it is hit, with jumps of exactly one window
        // (the edge: the oldest restart leaves it) that open it again
        now += random() < 0.05 ? withinMs : Math.floor((random() * withinMs) / maxRestarts);
        const expected = local.admit(now);
        // the main thread's admit and a worker's tryAdmit agree when nobody else holds the ledger
        expect(i % 2 === 0 ? shared.admit(now) : shared.tryAdmit(now), `max ${maxRestarts} within ${withinMs}, restart ${i} at ${now}`).toBe(expected);
        if (expected) admitted++;
        else refused++;
      }
      expect(admitted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    }
  });

  it('a closed window admits nothing, through any view of it', () => {
    const memory = allocateRestartLedger(5, 1000);
    const window = new RestartLedger(memory, 0);
    expect(window.admit(0)).toBe(true);
    window.close();
    expect(window.admit(1)).toBe(false);
    expect(new RestartLedger(memory, 1).tryAdmit(10_000)).toBe(false);
    const local = new LocalRestartWindow(5, 1000);
    local.close();
    expect(local.admit(0)).toBe(false);
  });

  it('is shared only where workers may decide: one_for_one, no backoff, a limit from 1 to kMaxSharedRestarts', () => {
    expect(workersMayRestart(oneForOne)).toBe(true);
    expect(workersMayRestart({ ...oneForOne, maxRestarts: kMaxSharedRestarts })).toBe(true);
    expect(workersMayRestart({ ...oneForOne, strategy: 'one_for_all' })).toBe(false);
    expect(workersMayRestart({ ...oneForOne, strategy: 'rest_for_one' })).toBe(false);
    expect(workersMayRestart({ ...oneForOne, backoff: { minMs: 1, maxMs: 2, jitter: 0 } })).toBe(false);
    expect(workersMayRestart({ ...oneForOne, maxRestarts: 0 })).toBe(false);
    expect(workersMayRestart({ ...oneForOne, maxRestarts: kMaxSharedRestarts + 1 })).toBe(false);
    expect(allocateRestartLedger(3, 1000).byteLength).toBe(24 + 3 * 8);
    expect(() => new RestartLedger(new SharedArrayBuffer(30), 0)).toThrow(/24 \+ 8n bytes/);
  });

  it('a claim left held makes workers defer to the root; a dead worker\'s is released by name, and the main thread takes over one held too long', () => {
    const memory = allocateRestartLedger(3, 1000);
    const main = new RestartLedger(memory, 0);
    const worker = new RestartLedger(memory, 1);
    const claim = new Int32Array(memory, 0, 1);
    Atomics.store(claim, 0, 3); // held by host 2, which died holding it
    expect(worker.tryAdmit(0)).toBeUndefined();
    main.releaseHeldBy(1); // another host's death releases nothing
    expect(worker.tryAdmit(0)).toBeUndefined();
    main.releaseHeldBy(2);
    expect(worker.tryAdmit(0)).toBe(true);
    Atomics.store(claim, 0, 42); // held by a thread that is stopped, not dead
    expect(worker.tryAdmit(1)).toBeUndefined();
    expect(main.admit(1)).toBe(true);
    expect(worker.tryAdmit(2)).toBe(true);
    expect(worker.tryAdmit(3)).toBe(false);
    expect(Atomics.load(claim, 0)).toBe(0);
  });

  it('threads racing for restarts are granted exactly maxRestarts between them', async () => {
    const maxRestarts = 20_000;
    const threads = 3;
    const attempts = 20_000;
    const memory = allocateRestartLedger(maxRestarts, 3_600_000);
    const start = new SharedArrayBuffer(8);
    const gate = new Int32Array(start);
    const workers = Array.from({ length: threads }, (_, i) => new Worker(fixture('window-hammer'), { workerData: { memory, start, attempts, hostIndex: i + 1 } }));
    try {
      const granted = workers.map(
        (worker) =>
          new Promise<{ admitted: number; busy: number }>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
            worker.once('exit', (code) => reject(new Error(`a racing thread exited with ${code} before it reported`)));
          }),
      );
      const failed = Promise.race(granted).then(() => undefined);
      failed.catch(() => undefined);
      // every thread at the gate (or one failed), then all go at once; the main thread races too, as the root does
      while (Atomics.load(gate, 1) < threads) await Promise.race([failed, new Promise((resolve) => setImmediate(resolve))]);
      const main = new RestartLedger(memory, 0);
      Atomics.store(gate, 0, 1);
      let mainGranted = 0;
      for (let i = 0; i < attempts; i++) if (main.admit(monotonicMs())) mainGranted++;
      const counts = await Promise.all(granted);
      expect(counts.reduce((sum, c) => sum + c.admitted, mainGranted)).toBe(maxRestarts);
    } finally {
      await Promise.all(workers.map((worker) => worker.terminate()));
    }
  });
});
