import { defineActor } from '../actor/define-actor.js';

/** The actor a spare's rehearsal runs: it answers what it is asked. */
export default defineActor({
  receive(_state, msg: unknown, ctx) {
    ctx.reply(msg);
  },
});
