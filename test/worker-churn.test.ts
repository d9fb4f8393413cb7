import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { kInternals } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

const kills = Number(process.env.TROUPE_CHURN_KILLS ?? 1000);

describe('worker churn', () => {
  it(`${kills} worker kills in a row leave no leaked workers, lanes, timers or listeners`, { timeout: 600_000 }, async () => {
    // A deliberate kill every time, not a crash loop: no replacement backoff, a lenient root.
    await using system = await startSystem({ workers: 2, workerBackoff: { minMs: 0, maxMs: 0 }, supervisor: { maxRestarts: 1_000_000, withinMs: 1000 } });
    const victim = await system.spawn(fixture('crasher'), { host: 0 });
    const survivor = await system.spawn(actor('counter'), { host: 1 });
    const handlesBefore = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const listenersBefore = process.listenerCount('exit') + process.listenerCount('uncaughtException');
    let heapAfterWarmup = 0;
    for (let i = 0; i < kills; i++) {
      const back = system.events.waitFor('actor.restarted', (e) => e.id === victim.id, { timeoutMs: 30_000 });
      await system[kInternals].terminateWorker(0);
      await back;
      if (i === 20) heapAfterWarmup = getHeapStatistics().used_heap_size;
    }
    victim.tell({ type: 'inc' });
    expect(await victim.ask({ type: 'get' })).toMatchObject({ n: 1 });
    survivor.tell({ type: 'inc' });
    expect(await survivor.ask({ type: 'get' })).toBe(1);
    expect(system[kInternals].threadIds().size).toBe(2);
    const handlesAfter = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    expect(handlesAfter).toBeLessThanOrEqual(handlesBefore + 2);
    expect(process.listenerCount('exit') + process.listenerCount('uncaughtException')).toBe(listenersBefore);
    // the main thread's heap does not grow with the number of kills (generous bound: 16 MiB)
    if (kills > 20) expect(getHeapStatistics().used_heap_size - heapAfterWarmup).toBeLessThan(16 * 1024 * 1024);
    expect(system.stats().hosts[1].deadLetters).toBe(0);
  });
});
