import { defineActor } from 'troupe';

type Msg = { type: 'run'; n: number } | { type: 'fill'; events: number; batch: number } | { type: 'get' };

/** What both bench counters do: persist `n` events one after another (reporting each latency, µs), fill a journal, answer the count. */
export function durableCounter(snapshotEvery: number | undefined) {
  return defineActor({
    init: () => ({ n: 0 }),
    persistence: {
      apply(state: { n: number }, event: { add: number }) {
        state.n += event.add;
        return state;
      },
      ...(snapshotEvery === undefined ? {} : { snapshotEvery }),
    },
    async receive(state, msg: Msg, ctx) {
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
}

/** A durable counter with a snapshot every 1000 events. */
export default durableCounter(1000);
