// actors/front-desk.ts
import { defineActor, type ActorRef } from 'troupe';

/** Checks a guest in: counts them at the counter, then asks it how many came. */
export default defineActor({
  async receive(_state, msg: { type: 'checkin'; counter: ActorRef }, ctx) {
    ctx.tell(msg.counter, { type: 'inc' });
    ctx.reply(await ctx.ask(msg.counter, { type: 'get' }));
  },
});
