import { defineActor } from 'troupe';

/** The durable counter without snapshots: recovery replays every event. */
export default defineActor({
  init: () => ({ n: 0 }),
  persistence: {
    apply(state: { n: number }, event: { add: number }) {
      state.n += event.add;
      return state;
    },
  },
  async receive(state, msg: { type: 'fill'; events: number; batch: number } | { type: 'get' }, ctx) {
    if (msg.type === 'fill') {
      for (let done = 0; done < msg.events; done += msg.batch) {
        await ctx.persist(Array.from({ length: Math.min(msg.batch, msg.events - done) }, () => ({ add: 1 })));
      }
    }
    ctx.reply(state.n);
  },
});
