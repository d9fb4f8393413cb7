// actors/counter.ts
import { defineActor } from 'troupe';

export default defineActor({
  init: (args: { start: number }) => ({ n: args.start }),
  receive(state, msg, ctx) {
    if (msg.type === 'inc') state.n += 1;
    if (msg.type === 'get') ctx.reply(state.n);
  },
});
