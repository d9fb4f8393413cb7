import { defineActor } from 'troupe';

/** Replies with the message it was asked (or tells it back to the sending actor). */
export default defineActor({
  receive(_state, msg: unknown, ctx) {
    ctx.reply(msg);
  },
});
