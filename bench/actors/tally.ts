import { defineActor } from 'troupe';

/** Counts what it is told; `{ type: 'count' }` asks how many so far. */
export default defineActor({
  init: () => ({ n: 0 }),
  receive(state, msg: { type?: string }, ctx) {
    if (msg.type === 'count') ctx.reply(state.n);
    else state.n++;
  },
});
