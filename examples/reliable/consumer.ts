// consumer.ts: wrap the behaviour; receive sees each message once, in order
import { defineActor } from 'troupe';
import { reliable } from 'troupe/reliable';

export default defineActor(reliable({
  init: () => ({ total: 0 }),
  receive(state, msg: { amount: number } | { type: 'total' }, ctx) {
    if ('type' in msg) ctx.reply(state.total); // a plain ask, outside the channel
    else state.total += msg.amount;
  },
}));
