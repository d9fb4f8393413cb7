import { getHeapStatistics } from 'node:v8';
import { defineActor } from 'troupe';

export interface HeapProbeReport {
  gc: boolean;
  heapUsedBytes: number;
}

/**
 * Collects garbage on its host (when the process set `--expose-gc` before the
 * workers started) and replies with the heap in use, so a heap-per-actor
 * figure is not mostly garbage left by the spawns.
 */
export default defineActor({
  receive(_state, _msg: { type: 'gc' }, ctx) {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc !== undefined) {
      gc();
      gc();
    }
    const report: HeapProbeReport = { gc: gc !== undefined, heapUsedBytes: getHeapStatistics().used_heap_size };
    ctx.reply(report);
  },
});
