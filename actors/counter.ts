import { defineActor } from 'troupe';

export type CounterMessage = { type: 'inc'; by?: number } | { type: 'get' } | { type: 'reset' };

/** A counter: `inc` adds, `get` replies with the value, `reset` sets it back to the start. */
export default defineActor({
  init: (args: { start?: number } | undefined) => ({ start: args?.start ?? 0, n: args?.start ?? 0 }),
  receive(state, msg: CounterMessage, ctx) {
    switch (msg.type) {
      case 'inc':
        state.n += msg.by ?? 1;
        break;
      case 'get':
        ctx.reply(state.n);
        break;
      case 'reset':
        state.n = state.start;
        break;
    }
  },
});
