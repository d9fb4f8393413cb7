import { defineActor } from 'troupe';

/** A durable counter that persists `n` events one after another and reports each persist's latency (µs). */
export default defineActor({
  init: () => ({ n: 0 }),
  persistence: {
    apply(state: { n: number }, event: { add: number }) {
      state.n += event.add;
      return state;
    },
    snapshotEvery: 1000,
  },
  async receive(state, msg: { type: 'run'; n: number } | { type: 'fill'; events: number; batch: number } | { type: 'get' }, ctx) {
    if (msg.type === 'run') {
      const latencies = new Float64Array(msg.n);
      for (let i = 0; i < msg.n; i++) {
        const at = performance.now();
        await ctx.persist({ add: 1 });
        latencies[i] = (performance.now() - at) * 1000;
      }
      ctx.reply(Array.from(latencies));
    } else if (msg.type === 'fill') {
      for (let done = 0; done < msg.events; done += msg.batch) {
        await ctx.persist(Array.from({ length: Math.min(msg.batch, msg.events - done) }, () => ({ add: 1 })));
      }
      ctx.reply(state.n);
    } else ctx.reply(state.n);
  },
});
