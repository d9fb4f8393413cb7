import { defineActor } from 'troupe';

type Msg =
  | { type: 'run'; n: number }
  | { type: 'paced'; n: number; startAt: number; intervalMs: number }
  | { type: 'fill'; events: number; batch: number }
  | { type: 'get' };

/** Wall-clock ms with sub-ms precision, comparable between threads (each thread's performance.now() has its own origin). */
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
      } else if (msg.type === 'paced') {
        // An offered rate: event i is due at startAt + i·intervalMs. Its latency runs from when it was due, if
        // the actor was late (the last persist took longer than the interval: the queueing a load generator
        // that waits would hide), else from when the timer woke the actor.
        const latencies = new Float64Array(msg.n);
        let late = 0;
        for (let i = 0; i < msg.n; i++) {
          const due = msg.startAt + i * msg.intervalMs;
          let from = now();
          if (due > from) {
            await sleep(due - from);
            from = now();
          } else {
            if (i > 0) late++;
            from = due;
          }
          await ctx.persist({ add: 1 });
          latencies[i] = (now() - from) * 1000;
        }
        ctx.reply({ latencies: Array.from(latencies), late });
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
