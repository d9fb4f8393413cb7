/**
 * Savina Counting: a producer sends N increments to a counter, then asks for
 * the total (the ask follows the increments on the same lane, so it is
 * answered after all of them). The producer respects backpressure like every
 * bench producer (`produce()` in bench/lib.ts).
 */
import { defineActor, type ActorRef } from 'troupe';
import { produce, type ProduceReport } from '../lib.js';

export type CountingRun = { type: 'run'; counter: ActorRef; n: number; burst: number };

export interface CountingReport extends ProduceReport {
  ms: number;
  count: number;
}

const kInc = Object.freeze({ type: 'inc' as const });
const kGet = Object.freeze({ type: 'get' as const });

/** Counts increments; `get` answers the count and starts again from zero. */
export const counter = defineActor({
  init: () => ({ n: 0 }),
  receive(state, msg: { type: 'inc' } | { type: 'get' }, ctx) {
    if (msg.type === 'inc') {
      state.n++;
      return;
    }
    ctx.reply(state.n);
    state.n = 0;
  },
});

export const producer = defineActor({
  async receive(_state, msg: CountingRun, ctx) {
    const { counter: target, n, burst } = msg;
    const start = performance.now();
    const report = await produce(() => ctx.tell(target, kInc), n, burst, () => target.whenWritable());
    const count = await ctx.ask<number>(target, kGet, { timeoutMs: 120_000 });
    const result: CountingReport = { ms: performance.now() - start, count, ...report };
    ctx.reply(result);
  },
});
